"""Read a workbook's first sheet in a child process with a memory limit (issue 8, finding 1).

elders.workbook_guard refuses the workbooks it can see would expand too far; this is the
defence behind it. python-calamine aborts the whole process when an allocation fails (Rust
does not raise), so a reader that still blows up must not be the task worker, let alone
the web server. The child sets RLIMIT_AS, opens the workbook and sends its rows, merged
cells filled in, through a pipe in batches; if it dies, the parent gets an error it turns
into a message and the job fails instead of its worker.

This module imports nothing from Django: the child is started with `spawn` (a clean
interpreter, safe from a parent with threads or open database connections) and only loads
python-calamine.
"""

import multiprocessing
import resource
from collections.abc import Iterator

BATCH = 500  # rows per message


class ReaderFailed(Exception):
    """The child could not read the file: `kind` is 'unreadable', 'memory', 'timeout' or 'died'."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def _fill_merged(sheet) -> Iterator[list]:
    """The sheet's rows from A1, one list at a time, with merged blocks filled in: a 所属社区
    merged down twenty rows belongs to all twenty."""
    merged = {}
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        merged.setdefault(r0, []).append((c0, r1, c1))
    active = []  # (last row, first col, last col, value)
    for index, row in enumerate(sheet.iter_rows()):
        row = list(row)
        for c0, r1, c1 in merged.pop(index, ()):
            active.append((r1, c0, c1, row[c0] if c0 < len(row) else ""))
        if active:
            for _r1, c0, c1, value in active:
                for c in range(c0, min(c1, len(row) - 1) + 1):
                    if row[c] in ("", None):
                        row[c] = value
            active = [a for a in active if a[0] > index]
        yield row


def _child(path: str, memory_bytes: int, conn) -> None:
    """Runs in the child: ("height", n), then ("rows", [...])…, then ("end",) or ("error", kind, text)."""
    try:
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
        except MemoryError:
            raise
        except Exception as exc:  # calamine raises its own error types for every bad file
            conn.send(("error", "unreadable", str(exc)[:300]))
            return
        conn.send(("height", sheet.height or 0))
        batch = []
        for row in _fill_merged(sheet):
            batch.append(row)
            if len(batch) >= BATCH:
                conn.send(("rows", batch))
                batch = []
        if batch:
            conn.send(("rows", batch))
        conn.send(("end",))
    except MemoryError:
        conn.send(("error", "memory", ""))
    except Exception as exc:
        conn.send(("error", "unreadable", f"{type(exc).__name__}: {str(exc)[:300]}"))
    finally:
        conn.close()


class SheetStream:
    """The rows of the first sheet of `path`, read by a child process.

    `height` is the sheet's row count (known once the child has opened the file); iterate for
    the rows. Use as a context manager, or call close(): the child is ended if still running."""

    def __init__(self, path: str, *, memory_bytes: int, timeout: float = 600.0):
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(str(path), memory_bytes, child_conn), daemon=True)
        self._process.start()
        child_conn.close()
        self._timeout = timeout
        message = self._receive()
        if message[0] != "height":
            self.close()
            raise ReaderFailed("died", "no height")
        self.height = message[1]

    def _receive(self):
        if not self._conn.poll(self._timeout):
            self.close()
            raise ReaderFailed("timeout")
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            self._process.join(5)
            code = self._process.exitcode
            self.close()
            # killed by the kernel or aborted by a failed allocation: both are "too big"
            raise ReaderFailed("memory" if code is None or code < 0 or code == 134 else "died", f"exit {code}") from None
        if message[0] == "error":
            self.close()
            raise ReaderFailed(message[1], message[2])
        return message

    def __iter__(self) -> Iterator[list]:
        try:
            while True:
                message = self._receive()
                if message[0] == "end":
                    break
                yield from message[1]
        finally:
            self.close()

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
