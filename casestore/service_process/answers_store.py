"""The common-answers library: answers and standard phrasing per queue, category and language,
edited by admins (every edit a new version, audited), searched in full text (SQLite FTS5,
PostgreSQL tsvector), with the answers the current call's IVR path suggests first."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, column, func, literal_column, or_, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import writing
from casestore.repository import _Transaction
from casestore.service_process.models import ANSWERS

FTS = table("answers_fts", column("rowid"), column("rank"))  # SQLite's FTS5 table (migration 0008)
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class AnswerView:
    key: str
    version: int
    kind: str
    queue: str
    category: str
    language: str
    ivr_nodes: tuple[str, ...]
    title: str
    body: str
    author: str
    created_at: float
    suggested: bool = False


def _view(r: object, suggested: bool = False) -> AnswerView:
    m = r._mapping  # type: ignore[attr-defined]
    return AnswerView(m["answer_key"], m["version"], m["kind"], m["queue"], m["category"], m["language"],
                      tuple(m["ivr_nodes"].split()), m["title"], m["body"], m["author"], m["created_at"], suggested)


def search_terms(query: str) -> list[str]:
    """The words of a query (no operators reach the full-text engines)."""
    return WORD.findall(query.lower())[:12]


class AnswerRepository:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def save(
        self, actor: Actor, key: str, *, title: str, body: str, language: str, queue: str = "*",
        category: str = "*", kind: str = "answer", ivr_nodes: Sequence[str] = (),
    ) -> AnswerView:
        """A new version of the answer `key` (the first one creates it)."""
        now = self.clock()
        a = ANSWERS.c
        async with _Transaction(writing(self.engine)) as conn:
            last = (await conn.execute(select(func.max(a.version)).where(a.answer_key == key))).scalar()
            version = int(last or 0) + 1
            await conn.execute(update(ANSWERS).where(a.answer_key == key).values(current=False))
            values = {
                "answer_key": key, "version": version, "current": True, "kind": kind, "queue": queue,
                "category": category, "language": language, "ivr_nodes": " ".join(ivr_nodes), "title": title,
                "body": body, "author": actor.login, "created_at": now,
            }
            await conn.execute(ANSWERS.insert().values(**values))
            await record_audit(conn, actor, "answer.save", f"answer:{key}", at=now,
                               after={"version": version, "title": title})
        return _view(_Row(values))

    async def versions(self, key: str) -> list[AnswerView]:
        async with _Transaction(self.engine) as conn:
            rows = (await conn.execute(select(ANSWERS).where(ANSWERS.c.answer_key == key)
                                       .order_by(ANSWERS.c.version.desc()))).all()
        return [_view(r) for r in rows]

    async def search(
        self, query: str = "", *, language: str | None = None, queue: str | None = None,
        category: str | None = None, suggest_nodes: Iterable[str] = (), limit: int = 20,
    ) -> list[AnswerView]:
        """Current answers matching every word of `query` (all when empty) in the filters;
        those whose IVR nodes the call passed come first, then by full-text rank."""
        a = ANSWERS.c
        stmt: Select[tuple[object, ...]] = select(ANSWERS).where(a.current.is_(True))
        if language:
            stmt = stmt.where(a.language == language)
        if queue:
            stmt = stmt.where(or_(a.queue == queue, a.queue == "*"))
        if category:
            stmt = stmt.where(or_(a.category == category, a.category == "*"))
        terms = search_terms(query)
        dialect = self.engine.dialect.name
        params: dict[str, str] = {}
        if terms and dialect == "postgresql":
            vector = func.to_tsvector(literal_column("'simple'"), a.title + literal_column("' '") + a.body)
            tsquery = func.to_tsquery(literal_column("'simple'"), " & ".join(f"{t}:*" for t in terms))
            stmt = stmt.where(vector.op("@@")(tsquery)).order_by(func.ts_rank(vector, tsquery).desc())
        elif terms:
            params["fts"] = " ".join(f'"{t}"*' for t in terms)
            stmt = (
                stmt.join(FTS, FTS.c.rowid == a.id)
                .where(text("answers_fts MATCH :fts")).order_by(FTS.c.rank)
            )
        stmt = stmt.order_by(a.title).limit(200)
        async with _Transaction(self.engine) as conn:
            rows = (await conn.execute(stmt, params)).all()
        nodes = set(suggest_nodes)
        found = [_view(r, bool(nodes & set(r._mapping["ivr_nodes"].split()))) for r in rows]
        found.sort(key=lambda v: not v.suggested)  # stable: keeps the rank order within each group
        return found[:limit]


class _Row:
    def __init__(self, values: dict[str, object]) -> None:
        self._mapping = values
