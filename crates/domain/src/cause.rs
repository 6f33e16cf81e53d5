//! How every part of taskapi writes an internal failure into its log: the error and each
//! error that caused it, in one line. (The caller never sees this; 500s say nothing.)

/// An error and every error that caused it, outermost first: "a: b: c".
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Many errors repeat their source in their own message; say each part once.
        if !chain.ends_with(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Repeating(#[source] std::io::Error);

    #[test]
    fn the_whole_chain_in_one_line() {
        let err = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(cause_chain(&err), "outer: disk on fire");
    }

    #[test]
    fn a_cause_the_message_repeats_is_said_once() {
        let err = Repeating(std::io::Error::other("disk on fire"));
        assert_eq!(cause_chain(&err), "outer: disk on fire");
    }
}
