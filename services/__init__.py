"""Services: the business rules. They know neither HTTP nor the database driver."""
