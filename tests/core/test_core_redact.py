from peaktrade.redact import MASK, is_secret_name, redact, redact_text, register_secret


def test_secret_names():
    for name in ["api_key", "KRAKEN_API_SECRET", "bot_token", "password", "smtp_password"]:
        assert is_secret_name(name), name
    for name in ["api_key_env", "password_env", "key_fingerprint", "public_keys", "mode", "symbol"]:
        assert not is_secret_name(name), name


def test_values_under_secret_keys_are_masked_recursively():
    data = {"api_key": "abc123456", "nested": [{"token": "t0k3n-value", "ok": 1}], "mode": "testnet"}
    assert redact(data) == {"api_key": MASK, "nested": [{"token": MASK, "ok": 1}], "mode": "testnet"}


def test_registered_secret_is_masked_inside_text():
    register_secret("s3cr3t-v4lue-xyz")
    assert redact_text("auth failed for s3cr3t-v4lue-xyz!") == f"auth failed for {MASK}!"


def test_env_secret_values_are_masked(monkeypatch):
    monkeypatch.setenv("KRAKEN_TESTNET_API_SECRET", "zzzSECRETzzz")
    assert "zzzSECRETzzz" not in redact_text("header zzzSECRETzzz")


def test_a_secret_set_changed_or_declared_after_a_redaction_is_masked_at_once(monkeypatch):
    """The redactor caches the secrets it found in the environment; any change of the environment, a newly
    declared variable or a newly registered value is seen by the very next redaction."""
    from peaktrade.redact import register_secret, register_secret_env

    assert redact_text("nothing here") == "nothing here"  # fills the cache
    monkeypatch.setenv("PT_TEST_API_SECRET", "first-secret-value-1")
    assert redact_text("x first-secret-value-1 y") == f"x {MASK} y"
    monkeypatch.setenv("PT_TEST_API_SECRET", "second-secret-value-2")  # same variable, new value
    assert redact_text("first-secret-value-1 second-secret-value-2") == f"first-secret-value-1 {MASK}"
    monkeypatch.setenv("PT_TEST_PLAIN_NAME", "declared-later-value-3")
    assert redact_text("declared-later-value-3") == "declared-later-value-3"  # not secret by its name
    register_secret_env("PT_TEST_PLAIN_NAME")
    assert redact_text("declared-later-value-3") == MASK
    register_secret("registered-value-4")
    assert redact_text("registered-value-4") == MASK
