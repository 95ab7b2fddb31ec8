"""Read a workbook's first sheet in a child process with a memory limit (issue 8, finding 1).

elders.workbook_guard refuses the workbooks it can see would expand too far; this is the
defence behind it. python-calamine aborts the whole process when an allocation fails (Rust
does not raise), so a reader that still blows up must not be the task worker, let alone
the web server. The child sets RLIMIT_AS, opens the workbook and sends its rows, merged
cells filled in, through a pipe in batches; if it dies, the parent gets an error it turns
into a message and the job fails instead of its worker.

This module imports nothing from Django: the child is a fresh interpreter running
`python -m elders.sheet_reader PATH LIMIT` (not a fork, so it is safe from a parent with
threads or open database connections; not multiprocessing's spawn, which would import the
parent's main script again) and loads only python-calamine. Messages are pickled on its
standard output.
"""

import os
import pickle
import resource
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PROJECT_DIR = str(Path(__file__).resolve().parent.parent)

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


class _Out:
    """The child's side of the pipe: pickled messages on standard output."""

    def __init__(self):
        self.stream = sys.stdout.buffer
        sys.stdout = sys.stderr  # nothing else may write into the pipe

    def send(self, message) -> None:
        pickle.dump(message, self.stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


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
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PROJECT_DIR, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "elders.sheet_reader", str(path), str(memory_bytes)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
            cwd=PROJECT_DIR,
        )
        self._timeout = timeout
        message = self._receive()
        if message[0] != "height":
            self.close()
            raise ReaderFailed("died", "no height")
        self.height = message[1]

    def _receive(self):
        ready, _w, _x = select.select([self._process.stdout], [], [], self._timeout)
        if not ready:
            self.close()
            raise ReaderFailed("timeout")
        try:
            message = pickle.load(self._process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            try:
                code = self._process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
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
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(5)
        if self._process.stdout:
            self._process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]), _Out())
