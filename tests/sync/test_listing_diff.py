"""ListingDiff on its own: cases AWS can produce but the emulator's keyset pages cannot."""

from __future__ import annotations

from datetime import UTC, datetime

from app.sync.inventory import ListingDiff

ARN = "arn:aws:backup-gateway:us-east-1:123456789012:vm/"


def test_a_vm_listed_twice_is_written_and_counted_once() -> None:
    diff = ListingDiff("hype-1", cached={})
    first = diff.add_page(iter([(ARN + "vm-1", ("web", None, "/dc/vm", None)),
                                (ARN + "vm-2", ("db", None, "/dc/vm", None))]))
    # The inventory changed between pages and AWS's next page repeats vm-2, renamed.
    second = diff.add_page(iter([(ARN + "vm-2", ("db-renamed", None, "/dc/vm", None)),
                                 (ARN + "vm-3", ("app", None, "/dc/vm", None))]))
    written = [row[0] for row in first.upserts + second.upserts]
    assert written == ["vm-1", "vm-2", "vm-3"]
    assert diff.new == 3
    assert diff.seen == 3
    assert diff.listed()[ARN + "vm-2"] == ("db", None, "/dc/vm", None)  # what was written


def test_changes_backup_dates_and_tombstones_are_told_apart() -> None:
    cached = {ARN + "vm-1": ("web", None, "/dc/vm", None),
              ARN + "vm-2": ("db", None, "/dc/vm", None),
              ARN + "vm-3": ("old", None, "/dc/vm", None)}
    diff = ListingDiff("hype-1", cached=dict(cached))
    backup = datetime(2026, 11, 1, tzinfo=UTC)
    changes = diff.add_page(iter([(ARN + "vm-1", ("web", None, "/dc/vm", backup)),
                                  (ARN + "vm-2", ("db", "esx-2", "/dc/vm", None))]))
    assert changes.backup_dates == [(backup, "vm-1")]
    assert [row[0] for row in changes.upserts] == ["vm-2"]
    assert diff.tombstones() == ["vm-3"]
    assert (diff.new, diff.changed, diff.seen) == (0, 2, 2)
    assert diff.listed() == {ARN + "vm-1": ("web", None, "/dc/vm", backup),
                             ARN + "vm-2": ("db", "esx-2", "/dc/vm", None)}


def test_an_unchanged_listing_keeps_the_cached_snapshot_as_it_is() -> None:
    cached = {ARN + "vm-1": ("web", None, "/dc/vm", None)}
    diff = ListingDiff("hype-1", cached=cached)
    assert not diff.add_page(iter([(ARN + "vm-1", ("web", None, "/dc/vm", None))]))
    assert diff.listed() is cached
    assert diff.tombstones() == []
