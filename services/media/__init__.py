"""Media: images, videos, their jobs, uploads, shares and pushed job events."""
