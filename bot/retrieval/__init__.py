"""Finding the passages: the index, the vector store, the keyword leg and the embedders."""
