"""A notice's video availability and clock accuracy: from the faults the samples opened."""

from __future__ import annotations

import io

import docx
import pytest

from netwatch.inventory import CheckSpec
from netwatch.monitor import record_first_checks
from netwatch.notices.docx_file import render_docx
from netwatch.notices.issue import issue_notices
from netwatch.notices.render import render_html
from netwatch.notices.summary import sampled_time_rates
from netwatch.store import Store
from tests.notices.city import at, city, device, fault, recover

BOTH_ENGINES = True
CHECKS = (CheckSpec("icmp", "icmp", 0, None), CheckSpec("rtsp", "rtsp", 554, None),
          CheckSpec("video", "video", 554, None), CheckSpec("onvif_time", "onvif_time", 80, None))


def test_the_rates_count_the_faults_open_at_the_period_end(store: Store) -> None:
    """Four cameras with a video and a clock check: cam-1 still without video at the end,
    cam-2's picture back before it (not counted), cam-3's clock off; a switch without
    either check is in neither rate. East: video 3 of 4, clocks 3 of 4."""
    cams = [device(f"cam-{i}", checks=CHECKS) for i in range(1, 5)]
    inventory = city(*cams, device("sw-1", "switch"), device("site-1", "trunking_site"))
    record_first_checks(store, [(d.id, at("2026-11-20")) for d in inventory.devices])
    fault(store, "cam-1", at("2026-12-01"), "no_video")
    recover(store, fault(store, "cam-2", at("2026-12-01"), "no_video"), at("2026-12-02"))
    fault(store, "cam-3", at("2026-12-03"), "clock_drift")
    [o] = issue_notices(store, inventory, counties=["east"], now=at("2026-12-06", 10))
    r = o.record
    assert r is not None
    assert (r.video_ratio, r.video_cameras, r.clock_ratio, r.clock_devices) == (
        0.75, 4, 0.75, 4)
    html = render_html(r)
    assert "视频可用率75.0%（抽检4路）" in html and "时钟准确率75.0%（核查4台）" in html
    word = docx.Document(io.BytesIO(render_docx(r, "zh")))
    assert "视频可用率75.0%" in "\n".join(p.text for p in word.paragraphs)


def test_a_county_without_such_checks_says_nothing_of_them(store: Store) -> None:
    inventory = city()
    record_first_checks(store, [(d.id, at("2026-11-20")) for d in inventory.devices])
    fault(store, "sw-1", at("2026-12-05"), kind="switch")
    [o] = issue_notices(store, inventory, counties=["east"], now=at("2026-12-06", 10))
    assert o.record is not None and o.record.video_ratio is None
    assert "视频可用率" not in render_html(o.record)
    assert '"video_ratio"' not in o.record.to_json()  # older records read back byte for byte


def test_a_camera_that_is_down_shows_no_video_but_its_clock_is_not_judged(store: Store) -> None:
    """cam-4 is unreachable from 30 Nov 09:00 on: at the period's end it counts against
    video availability (down, no picture), not against clock accuracy. Over the month of
    November (watched from the 20th: 11 days × 4 cameras), its last day is lost video time:
    1 − 24/1056 video, and every clock hour good."""
    cams = [device(f"cam-{i}", checks=CHECKS) for i in range(1, 5)]
    inventory = city(*cams)
    record_first_checks(store, [(d.id, at("2026-11-20", 0)) for d in inventory.devices])
    fault(store, "cam-4", at("2026-11-30", 0))
    [o] = issue_notices(store, inventory, counties=["east"], now=at("2026-12-06", 10))
    assert o.record is not None
    assert (o.record.video_ratio, o.record.clock_ratio) == (0.75, 1.0)
    rates = sampled_time_rates(store, inventory, at("2026-11-01", 0), at("2026-12-01", 0))
    video, clock = rates["video"]["east"]["camera"], rates["onvif_time"]["east"]["camera"]
    assert (video.ratio, video.online) == (pytest.approx(1 - 24 / 1056), 3)
    assert (clock.ratio, clock.online) == (1.0, 4)
