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
