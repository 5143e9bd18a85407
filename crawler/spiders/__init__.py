"""One spider per publisher; each module holds that site's selectors and nothing else.

``nao``, ``govuk``, ``nhs-digital`` and ``parliament`` all take the arguments ``base_url``
and ``since`` (see :mod:`crawler.source_spider`).
"""
