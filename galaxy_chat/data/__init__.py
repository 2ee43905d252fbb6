"""Data sources: document collections and SQL tables, indexed with SQLite FTS5, searched under the Policy.

    sources = DataSources.from_settings(settings)         # config/data_sources.yml; DataSourceError if malformed
    retriever = Retriever(sources, policy, settings.retrieval_top_k)
    passages = await retriever.retrieve("How long is parental leave?", ["hr_policies"], user)
    prompt_text = context_block(passages)
"""

from galaxy_chat.data.data_sources import DataSources
from galaxy_chat.data.retrieval import Retriever, context_block, query_terms
from galaxy_chat.data.search_index import SourceUnavailable
from galaxy_chat.data.sources_file import DataSourceError, DocumentSource, TableSource

__all__ = [
    "DataSourceError", "DataSources", "DocumentSource", "Retriever", "SourceUnavailable",
    "TableSource", "context_block", "query_terms",
]
