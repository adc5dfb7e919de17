"""Japanese text: normalisation, Sudachi words and readings, token counts."""
