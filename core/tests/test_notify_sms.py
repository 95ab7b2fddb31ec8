"""The SMS gateway channel (core.notify.SmsGatewayChannel): what it posts, and that a failure
is logged without a number and raised only for a caller that asks."""

import io
import json
import logging
import urllib.error

import pytest

from core import notify


class FakeResponse(io.BytesIO):
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def sms(settings, monkeypatch):
    settings.NOTIFY_CHANNEL = "core.notify.SmsGatewayChannel"
    settings.NOTIFY_SMS_URL = "https://sms.example.invalid/send"
    settings.NOTIFY_SMS_KEY = "k-123"
    settings.NOTIFY_SMS_TIMEOUT = 3
    monkeypatch.setattr(notify, "_PHONE_RESOLVERS", [lambda ids: {i: f"1390000{i:04d}" for i in ids}])
    sent = []

    def fake_urlopen(request, timeout):
        sent.append((request, timeout))
        return FakeResponse(b"{}")

    monkeypatch.setattr(notify.urllib.request, "urlopen", fake_urlopen)
    return sent


def test_the_gateway_gets_recipients_with_phones_subject_and_body(sms):
    notify.notify([7, 8], subject="紧急呼叫：欧阳春梅 跌倒", body="请立即响应：/alerts/1/respond/")

    request, timeout = sms[0]
    assert timeout == 3 and request.get_header("Authorization") == "Bearer k-123"
    body = json.loads(request.data)
    assert body["to"] == [{"user_id": 7, "phone": "13900000007"}, {"user_id": 8, "phone": "13900000008"}]
    assert body["subject"] == "紧急呼叫：欧阳春梅 跌倒"


def test_a_failure_is_logged_without_numbers_and_raised_only_when_asked(sms, monkeypatch, caplog):
    def down(request, timeout):
        raise urllib.error.URLError("connection refused to 13900000007")

    monkeypatch.setattr(notify.urllib.request, "urlopen", down)
    with caplog.at_level(logging.INFO, logger="yinling.notify"):
        notify.notify([7], subject="s", body="b")  # swallowed
        with pytest.raises(notify.NotifyFailed):
            notify.notify([7], subject="s", body="b", raise_errors=True)
    assert "1390000" not in caplog.text and "URLError" in caplog.text


def test_a_gateway_refusal_is_a_failure(sms, monkeypatch):
    def refused(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 503, "busy", {}, None)

    monkeypatch.setattr(notify.urllib.request, "urlopen", refused)
    with pytest.raises(notify.NotifyFailed, match="503"):
        notify.notify([7], subject="s", body="b", raise_errors=True)
