"""A project's tasks (schema v2): the list the author keeps, and who took each, read from
what members said (`task:<id>`, `done:<id>` under their own key in `responses`)."""

from __future__ import annotations

from collections.abc import Sequence

from .automerge import ROOT, Document, ObjectId, Writer
from .reading import as_str, maps_in_list
from .types import Response, Task


def task_key(task_id: str) -> str:
    """The response kind of taking a task."""
    return f"task:{task_id}"


def done_key(task_id: str) -> str:
    """The response kind of a taker saying the task is done."""
    return f"done:{task_id}"


def is_task_kind(kind: str) -> bool:
    return kind.startswith(("task:", "done:"))


def read_tasks(doc: Document, responses: Sequence[Response]) -> tuple[Task, ...]:
    """Who took each task, in the order they took it; a task is done when its author marked
    it so or anyone who took it said so."""
    said: dict[str, list[Response]] = {}
    for r in responses:
        if is_task_kind(r.kind):
            said.setdefault(r.kind, []).append(r)
    tasks = []
    for t in maps_in_list(doc, doc.child(ROOT, "tasks")):
        task_id = as_str(doc.scalar(t, "id"))
        takers = sorted(said.get(task_key(task_id), []), key=lambda r: (r.time, r.member))
        taken_by = [r.member for r in takers]
        tasks.append(
            Task(
                id=task_id,
                title=as_str(doc.scalar(t, "title")),
                taken_by=tuple(taken_by),
                done=doc.scalar(t, "done") is True or bool(said.get(done_key(task_id))),
            )
        )
    return tuple(tasks)


def add_task(w: Writer, task_id: str, title: str) -> None:
    task = w.append_map(w.list_at(ROOT, "tasks"))
    w.put_str(task, "id", task_id)
    w.put_str(task, "title", title)
    w.put_bool(task, "done", False)


def _task_at(doc: Document, task_id: str) -> tuple[int, ObjectId]:
    for index, t in enumerate(maps_in_list(doc, doc.child(ROOT, "tasks"))):
        if doc.scalar(t, "id") == task_id:
            return index, t
    raise KeyError(task_id)


def rename_task(doc: Document, task_id: str, title: str, now: int) -> None:
    _, task = _task_at(doc, task_id)
    with doc.change() as w:
        w.put_str(task, "title", title)
        w.put_int(ROOT, "updated", now)


def set_task_done(doc: Document, task_id: str, done: bool, now: int) -> None:
    """The author's mark on the task itself."""
    _, task = _task_at(doc, task_id)
    with doc.change() as w:
        w.put_bool(task, "done", done)
        w.put_int(ROOT, "updated", now)


def remove_task(doc: Document, task_id: str, now: int) -> None:
    index, _ = _task_at(doc, task_id)
    tasks = doc.child(ROOT, "tasks")
    assert tasks is not None
    with doc.change() as w:
        w.delete_at(tasks, index)
        w.put_int(ROOT, "updated", now)
