"""Built-in embedder backends. Each module registers itself with ``bot.retrieval.embeddings.register_embedder``."""
