//! `hash.*`: checksums and HMACs of bytes, with the algorithms GCP's reference lists (MD5,
//! SHA1, SHA224, SHA256, SHA384, SHA512). Bytes in, bytes out: a string is a `TypeError`
//! (`text.encode` makes bytes of it), and the digest is returned as bytes
//! (`base64.encode` makes text of it).

use hmac::{Hmac, Mac};
use sha2::Digest;

use super::{Args, Effects, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

/// The algorithms, in the spelling GCP's reference gives them.
const ALGORITHMS: &str = "MD5, SHA1, SHA224, SHA256, SHA384, SHA512";

#[derive(Clone, Copy)]
enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

fn algorithm(func: &str, v: Value) -> Result<Algorithm, Raised> {
    let name = match v {
        Value::Str(s) => s,
        other => {
            return Err(type_error(format!(
                "{func}: algorithm must be a string, got {}",
                other.a_type()
            )));
        }
    };
    Ok(match &*name {
        "MD5" => Algorithm::Md5,
        "SHA1" => Algorithm::Sha1,
        "SHA224" => Algorithm::Sha224,
        "SHA256" => Algorithm::Sha256,
        "SHA384" => Algorithm::Sha384,
        "SHA512" => Algorithm::Sha512,
        _ => {
            return Err(value_error(format!(
                "{func}: unsupported algorithm '{name}'; supported: {ALGORITHMS}"
            )));
        }
    })
}

/// An argument that must be bytes.
fn bytes_arg(func: &str, what: &str, v: Value) -> Result<std::rc::Rc<[u8]>, Raised> {
    match v {
        Value::Bytes(b) => Ok(b),
        other => Err(type_error(format!(
            "{func}: {what} must be bytes, got {}",
            other.a_type()
        ))),
    }
}

pub(super) fn compute_checksum(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let data = bytes_arg(a.name(), "data", a.required("data")?)?;
    let digest = match algorithm(a.name(), a.required("algorithm")?)? {
        Algorithm::Md5 => md5::Md5::digest(&data).to_vec(),
        Algorithm::Sha1 => sha1::Sha1::digest(&data).to_vec(),
        Algorithm::Sha224 => sha2::Sha224::digest(&data).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(&data).to_vec(),
        Algorithm::Sha384 => sha2::Sha384::digest(&data).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(&data).to_vec(),
    };
    Ok(Value::Bytes(digest.into()))
}

pub(super) fn compute_hmac(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let key = bytes_arg(a.name(), "key", a.required("key")?)?;
    let data = bytes_arg(a.name(), "data", a.required("data")?)?;
    // HMAC (RFC 2104) takes a key of any length (a long one is hashed first), so
    // `new_from_slice` never fails; its error is still an error, not a panic.
    macro_rules! hmac {
        ($digest:ty) => {
            <Hmac<$digest> as Mac>::new_from_slice(&key).map(|mut mac| {
                mac.update(&data);
                mac.finalize().into_bytes().to_vec()
            })
        };
    }
    let code = match algorithm(a.name(), a.required("algorithm")?)? {
        Algorithm::Md5 => hmac!(md5::Md5),
        Algorithm::Sha1 => hmac!(sha1::Sha1),
        Algorithm::Sha224 => hmac!(sha2::Sha224),
        Algorithm::Sha256 => hmac!(sha2::Sha256),
        Algorithm::Sha384 => hmac!(sha2::Sha384),
        Algorithm::Sha512 => hmac!(sha2::Sha512),
    };
    code.map(|c| Value::Bytes(c.into()))
        .map_err(|_| value_error(format!("{}: the key was refused", a.name())))
}
