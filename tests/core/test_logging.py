import json
import logging

from app.core.logging import JsonFormatter


def test_json_log_lines_redact_secret_fields() -> None:
    record = logging.LogRecord("vmbackup.x", logging.INFO, __file__, 1, "import", None, None)
    record.fields = {"password": "hunter2", "host": "vcenter.local"}
    line = json.loads(JsonFormatter().format(record))
    assert line["password"] == "[redacted]"
    assert line["host"] == "vcenter.local"
    assert "hunter2" not in json.dumps(line)
