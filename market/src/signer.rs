//! Where a market signer's key comes from: a hex private key, or an encrypted JSON keystore (the
//! Web3 Secret Storage format of geth, `cast wallet` and Foundry: scrypt or PBKDF2, AES-128-CTR)
//! opened with its password. [`Connection::connect_signer`] connects with either.

use crate::{Connection, MarketError, Result};
use alloy::network::EthereumWallet;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::{LocalSignerError, PrivateKeySigner};
use std::path::Path;

/// A hex private key (with or without `0x`) as a signer.
pub fn from_private_key(private_key: &str) -> Result<PrivateKeySigner> {
    // The parse error never echoes the key; neither does this message.
    private_key.trim().trim_start_matches("0x").parse().map_err(|e| MarketError::Format(format!("invalid private key: {e}")))
}

/// Decrypt the keystore file at `path` with `password`. A wrong password (the file's MAC does
/// not match) and an unreadable or malformed file are one-line errors naming the file.
pub fn from_keystore(path: &Path, password: &str) -> Result<PrivateKeySigner> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(MarketError::Format(format!("cannot read the keystore {}: {e}", path.display())));
    }
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
        let why = match &e {
            LocalSignerError::EthKeystoreError(k) if k.to_string() == "Mac Mismatch" => "wrong password (or a corrupted file)".to_string(),
            LocalSignerError::EthKeystoreError(k) => format!("not a usable keystore file: {k}"),
            other => other.to_string(),
        };
        MarketError::Format(format!("cannot decrypt the keystore {}: {why}", path.display()))
    })
}

/// Encrypt `private_key` with `password` into the keystore file `path` (its directory must
/// exist); returns the signer. Uses the format's standard scrypt parameters (n = 2^13), which
/// take a fraction of a second.
pub fn write_keystore(path: &Path, private_key: &str, password: &str) -> Result<PrivateKeySigner> {
    let signer = from_private_key(private_key)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(|| MarketError::Format(format!("{}: not a file name", path.display())))?;
    PrivateKeySigner::encrypt_keystore(dir, &mut rand::thread_rng(), signer.to_bytes(), password, Some(name))
        .map(|(s, _uuid)| s)
        .map_err(|e| MarketError::Format(format!("cannot write the keystore {}: {e}", path.display())))
}

impl Connection {
    /// Connect to `url` (plain `http://`) signing with `signer`; checks the node answers.
    pub async fn connect_signer(url: &str, signer: PrivateKeySigner) -> Result<Connection> {
        if url.starts_with("https://") {
            return Err(MarketError::Format(format!("{url}: https RPC endpoints are not supported by this build (plain http only)")));
        }
        let parsed = url.parse().map_err(|e| MarketError::Format(format!("invalid RPC URL {url:?}: {e}")))?;
        let address = signer.address();
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(parsed).erased();
        provider.get_chain_id().await.map_err(|e| MarketError::Unreachable { url: url.into(), reason: e.to_string() })?;
        Ok(Connection { provider, address, url: url.into() })
    }

    /// Connect to `url` signing with the key in the keystore file `path`.
    pub async fn connect_keystore(url: &str, path: &Path, password: &str) -> Result<Connection> {
        Connection::connect_signer(url, from_keystore(path, password)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn a_keystore_round_trips_and_a_wrong_password_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("operator.json");
        let written = write_keystore(&path, KEY, "correct horse").unwrap();
        assert_eq!(from_keystore(&path, "correct horse").unwrap().address(), written.address());
        assert_eq!(written.address(), from_private_key(KEY).unwrap().address());
        let err = from_keystore(&path, "wrong").unwrap_err().to_string();
        assert!(err.contains("wrong password") && !err.contains('\n'), "{err}");
        let err = from_keystore(&dir.path().join("missing.json"), "x").unwrap_err().to_string();
        assert!(err.starts_with("cannot read the keystore"), "{err}");
        std::fs::write(dir.path().join("junk.json"), "{}").unwrap();
        let err = from_keystore(&dir.path().join("junk.json"), "x").unwrap_err().to_string();
        assert!(err.contains("not a usable keystore"), "{err}");
        let err = from_private_key("0x1234").unwrap_err().to_string();
        assert!(err.starts_with("invalid private key"), "{err}");
    }
}
