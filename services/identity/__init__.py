"""Identity: users, authentication, API keys, Muse accounts and sessions."""
