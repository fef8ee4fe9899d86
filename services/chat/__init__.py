"""Chat: the chat service, its cache, models, streams, vision and the OpenAI rules."""
