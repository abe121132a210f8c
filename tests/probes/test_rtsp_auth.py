"""RTSP credentials: Digest and Basic answers, against the RFCs' own examples and real servers.

GStreamer's RTSP server demands Basic (``--auth``) or Digest (``--digest``) on
127.78.1.1 and 127.78.1.2; both the ``rtsp`` and the ``video`` check answer them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from probes import rtsp, rtspauth, video
from probes.base import ParamError, ProbeContext, ProbeResult, Reason, Target
from tests.peers import rtsp_server

BASIC_ADDRESS = "127.78.1.1"
DIGEST_ADDRESS = "127.78.1.2"
USER, PASSWORD = "viewer", "test-only"  # tests/peers_rtsp_server.py's


@pytest.fixture(scope="module")
def basic_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with rtsp_server(tmp_path_factory.mktemp("rtsp-basic"), BASIC_ADDRESS, auth=True) as port:
        yield port


@pytest.fixture(scope="module")
def digest_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with rtsp_server(tmp_path_factory.mktemp("rtsp-digest"), DIGEST_ADDRESS, digest=True) as port:
        yield port


# RFC 7616 §3.9.1 and RFC 2617 §3.5: the worked examples
RFC7616 = dict(user="Mufasa", realm="http-auth@example.org", password="Circle of Life",
               method="GET", uri="/dir/index.html",
               nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc="00000001",
               cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop="auth")


def test_digest_matches_the_rfc_examples() -> None:
    """MD5 and SHA-256 with qop=auth (RFC 7616), MD5 (RFC 2617)."""
    assert rtspauth.digest_response("MD5", **RFC7616) == "8ca523f5e9506fed4657c9700eebdbec"
    assert rtspauth.digest_response("SHA-256", **RFC7616) == (
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    assert rtspauth.digest_response(
        "MD5", "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
    ) == "6629fae49393a05397450978507c4ef1"


def test_authorization_headers() -> None:
    """The header carries the RFC example's response; Basic is RFC 7617's; no qop: no nc."""
    creds = rtspauth.Credentials("Mufasa", "Circle of Life")
    header = ('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
              'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
              'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", '
              'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
              'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="x", '
              'Basic realm="cams"')
    chosen = rtspauth.choose(rtspauth.parse_challenges(header))
    assert chosen is not None and chosen.algorithm == "SHA-256"
    auth = rtspauth.Authenticator(creds, chosen, cnonce=RFC7616["cnonce"])
    value = auth.authorization("GET", "/dir/index.html")
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value
    assert "nc=00000001" in value and 'opaque="FQhe/' in value and "qop=auth," in value
    assert "nc=00000002" in auth.authorization("GET", "/dir/index.html")
    basic = rtspauth.choose(rtspauth.parse_challenges('Basic realm="cams"'))
    assert basic is not None
    aladdin = rtspauth.Authenticator(rtspauth.Credentials("Aladdin", "open sesame"), basic)
    assert aladdin.authorization("DESCRIBE", "/") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    plain = rtspauth.choose(rtspauth.parse_challenges('Digest realm="r", nonce="n"'))
    assert plain is not None
    no_qop = rtspauth.Authenticator(creds, plain).authorization("DESCRIBE", "rtsp://c/")
    expected = rtspauth.digest_response("MD5", "Mufasa", "r", "Circle of Life", "DESCRIBE",
                                        "rtsp://c/", "n")
    assert f'response="{expected}"' in no_qop and "nc=" not in no_qop


def test_unanswerable_challenges() -> None:
    """auth-int only, an unknown algorithm or scheme: nothing to answer with."""
    for header in ('Digest realm="r", nonce="n", qop="auth-int"',
                   'Digest realm="r", nonce="n", algorithm=SHA-512-256',
                   'Negotiate abc', '', 'Digest realm="r"'):
        assert rtspauth.choose(rtspauth.parse_challenges(header)) is None, header


def test_credential_settings() -> None:
    """user and password go together; the password is never in a message or repr."""
    params = video.parse_params({"user": "u", "password": "s3cret-pw"})
    assert "s3cret-pw" not in repr(params) and "s3cret-pw" not in repr(params.credentials)
    for raw, field in [({"user": "u"}, "password"), ({"password": "p"}, "user"),
                       ({"user": "a b", "password": "p"}, "user"),
                       ({"user": 'a"b', "password": "p"}, "user"),
                       ({"user": "u", "password": "bad\nsecret"}, "password")]:
        for module in (rtsp, video):
            with pytest.raises(ParamError) as err:
                module.parse_params(raw)  # type: ignore[attr-defined]
            assert err.value.field == field and "secret" not in str(err.value)


def fields_of(result: ProbeResult) -> str:
    """Every text a result carries, for leak checks."""
    return repr(result) + result.detail + repr(result.info) + repr(result.findings)


async def run(module: object, port: int, address: str, **raw: object) -> ProbeResult:
    target = Target("cam", address, port, 3.0)
    params = module.parse_params(raw)  # type: ignore[attr-defined]
    return await module.probe(target, params, ProbeContext())  # type: ignore[attr-defined]


@pytest.mark.peer
@pytest.mark.parametrize("module", [rtsp, video])
async def test_digest_against_gstreamer(digest_port: int, module: object,
                                        caplog: pytest.LogCaptureFixture) -> None:
    """Right credentials: success; wrong ones: auth; neither the password nor a hash leaks."""
    caplog.set_level(logging.DEBUG)
    good = await run(module, digest_port, DIGEST_ADDRESS, path="/live", user=USER,
                     password=PASSWORD, **({"sample": "500ms"} if module is video else {}))
    assert good.success and good.reason is Reason.OK, good
    assert "Digest MD5" in good.detail
    if module is rtsp:
        assert good.measurements["describe_status_code"] == 200 and good.findings == ()
    else:
        assert good.measurements["video_packets"] > 0
    bad = await run(module, digest_port, DIGEST_ADDRESS, path="/live", user=USER,
                    password="not-the-password")
    assert (bad.success, bad.reason) == (False, Reason.AUTH), bad
    assert "credentials refused (Digest MD5)" in bad.detail
    for result in (good, bad):
        assert PASSWORD not in fields_of(result) and "not-the-password" not in fields_of(result)
    assert PASSWORD not in caplog.text and "not-the-password" not in caplog.text


@pytest.mark.peer
@pytest.mark.parametrize("module", [rtsp, video])
async def test_basic_against_gstreamer(basic_port: int, module: object) -> None:
    """The same with Basic, the only scheme the server offers in --auth mode."""
    good = await run(module, basic_port, BASIC_ADDRESS, path="/live", user=USER,
                     password=PASSWORD, **({"sample": "500ms"} if module is video else {}))
    assert good.success and "Basic" in good.detail, good
    bad = await run(module, basic_port, BASIC_ADDRESS, path="/live", user=USER, password="nope")
    assert (bad.success, bad.reason) == (False, Reason.AUTH) and PASSWORD not in fields_of(bad)


@pytest.mark.peer
async def test_video_without_credentials_on_a_protected_camera(digest_port: int) -> None:
    """No credentials configured: the video check cannot see video, which is auth."""
    result = await run(video, digest_port, DIGEST_ADDRESS, path="/live")
    assert result.reason is Reason.AUTH and "has none" in result.detail
    # while the rtsp check keeps calling such a camera alive and protected
    alive = await run(rtsp, digest_port, DIGEST_ADDRESS, path="/live")
    assert alive.success and alive.measurements["describe_status_code"] == 401
