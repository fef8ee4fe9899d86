"""Embeddings (contract §12 `POST /v1/embeddings`): one provider per model, priced per 1 000 tokens,
cached."""
