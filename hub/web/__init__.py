"""Server-rendered pages in Chinese and English: the catalogue and service guides."""
