"""Where a generation's vectors are read from comes from the settings, not from what the ingest saw (issue 15):
a copied data folder reads its own Chroma folder, and a node reads the server at its own BOT_CHROMA_HOST."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.retrieval.embeddings import EmbeddingModel
from bot.retrieval.index import Generation, IndexMismatch, current_generation, serving_location


def test_a_copied_data_folder_reads_its_own_vectors(built_settings: Settings, embedder: EmbeddingModel,
                                                    tmp_path: Path) -> None:  # fmt: skip
    copy = tmp_path / "moved"
    shutil.copytree(built_settings.data_dir / "index", copy / "index")
    settings = built_settings.model_copy(update={"data_dir": copy})
    gen = Generation.load(settings, embedder)
    try:
        assert gen.store.location.path == str(copy / "index" / "gens" / gen.id / "chroma")
        assert gen.store.count() == len(gen.chunks)
    finally:
        gen.close()


def test_the_chroma_server_address_comes_from_the_settings(built_settings: Settings, tmp_path: Path) -> None:
    gen = current_generation(built_settings.index_dir)
    assert gen
    gen_dir = built_settings.index_dir / "gens" / gen
    manifest = json.loads((gen_dir / "manifest.json").read_text())
    on_server = manifest | {"store": {"collection": "kosodate-x", "path": None, "host": "10.0.0.9", "port": 8000}}
    here = built_settings.model_copy(update={"chroma_host": "chroma.internal", "chroma_port": 8123})
    loc = serving_location(here, gen_dir, on_server)
    assert (loc.collection, loc.host, loc.port, loc.path) == ("kosodate-x", "chroma.internal", 8123, None)
    with pytest.raises(IndexMismatch, match="BOT_CHROMA_HOST is unset"):
        serving_location(built_settings, gen_dir, on_server)
    with pytest.raises(IndexMismatch, match="on disk but BOT_CHROMA_HOST is set"):
        serving_location(here, gen_dir, manifest)
