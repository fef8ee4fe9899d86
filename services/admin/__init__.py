"""Administration: user management and the admin statistics."""
