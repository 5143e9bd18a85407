"""The crawl stage: Scrapy spiders for four publishers, storing raw documents by content hash.

Run it with ``scrapy crawl <spider>`` from the repository root, or from Python with
:func:`crawler.run.run_crawl`.
"""
