"""A private PostgreSQL cluster in a temporary directory, on a free loopback port: for tests that
restart the database under load without touching the machine's shared server.

Uses the server binaries of the Debian packages (/usr/lib/postgresql/<version>/bin). PostgreSQL
refuses to run as root, so as root the commands run as the `postgres` OS user (runuser).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from deploy.topology import free_port


def server_bin() -> Path | None:
    """The newest installed server's bin directory, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda path: int(path.parent.parent.name)
                   if path.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


class PrivateCluster:
    """initdb, start, restart and stop one throwaway cluster (trust auth, user postgres)."""

    def __init__(self) -> None:
        bin_dir = server_bin()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin_dir = bin_dir
        self.port = free_port()
        self._scratch = tempfile.mkdtemp(prefix="vmbackup-pg-")
        self.data_dir = Path(self._scratch) / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self._scratch, user="postgres")
        self._run("initdb", "-D", str(self.data_dir), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True,  # noqa: S603 - our own argv
                       cwd=self._scratch)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._scratch} "
                   "-c fsync=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options,
                  "-l", str(Path(self._scratch) / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.destroy()
