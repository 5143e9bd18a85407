"""What the crawler hands to the knowledge base: the names of its sources. The only crawler
module ``kb`` may import (see ``.importlinter``)."""
from __future__ import annotations

# One spider each (crawler/spiders/); also the ``source`` of every stored document.
SOURCES = ("nao", "govuk", "nhs-digital", "parliament")
