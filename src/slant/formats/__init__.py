"""Readers and writers for the article and label files of SemEval-2023 Task 3 and PTC-2020."""

from . import ptc, semeval
from .articles import article_id, iter_articles, read_article, read_articles, write_article

__all__ = ["ptc", "semeval", "article_id", "iter_articles", "read_article", "read_articles", "write_article"]
