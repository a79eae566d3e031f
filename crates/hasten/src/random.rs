//! Random names: 128 bits from the operating system's source, as 32 hex digits.

/// 128 random bits as 32 lowercase hex digits (a UUID's entropy, without its dashes).
pub(crate) fn hex128() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
