"""Built-in embedder backends. Each module registers itself with ``bot.embeddings.register_embedder``."""
