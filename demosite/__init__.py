"""The demo publisher website: samples/ rendered (PDFs from text) and served on loopback for the real spiders."""
