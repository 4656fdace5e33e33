//! What a configuration check reports: one [`Finding`] per checked value,
//! at a [`Level`], gathered in a [`ConfigReport`] that prints one line each.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    /// Could not be verified, or doubtful: printed, does not stop a start.
    Warning,
    /// Contradicted by the target: atpilot refuses to start.
    Error,
}

/// One checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    /// The configuration key, e.g. `agent.resource_id`.
    pub key: String,
    /// Its configured value.
    pub value: String,
    /// What was found (ok), or what is wrong.
    pub detail: String,
    /// What the target has instead (a few), when that helps.
    pub instead: Option<String>,
    /// How to fix it.
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok   ",
            Level::Warning => "WARN ",
            Level::Error => "ERROR",
        };
        write!(f, "{tag} {} = {}: {}", self.key, self.value, self.detail)?;
        if let Some(i) = &self.instead {
            write!(f, ". The target has: {i}")?;
        }
        if let Some(x) = &self.fix {
            write!(f, ". Fix: {x}")?;
        }
        Ok(())
    }
}

/// Every finding of a check, in the order made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigReport {
    pub findings: Vec<Finding>,
}

impl ConfigReport {
    /// No error (warnings allowed).
    pub fn ok(&self) -> bool {
        self.errors().next().is_none()
    }
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level == Level::Error)
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level == Level::Warning)
    }
    /// The finding of `key`, if any (the first).
    pub fn get(&self, key: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.key == key)
    }
    fn push(
        &mut self,
        level: Level,
        key: impl Into<String>,
        value: impl ToString,
        detail: impl Into<String>,
        instead: Option<String>,
        fix: Option<&str>,
    ) {
        self.findings.push(Finding {
            level,
            key: key.into(),
            value: value.to_string(),
            detail: detail.into(),
            instead,
            fix: fix.map(str::to_string),
        });
    }
    pub(super) fn ok_(&mut self, key: impl Into<String>, value: impl ToString, detail: impl Into<String>) {
        self.push(Level::Ok, key, value, detail, None, None);
    }
    pub(super) fn error(
        &mut self,
        key: impl Into<String>,
        value: impl ToString,
        detail: impl Into<String>,
        instead: Option<String>,
        fix: &str,
    ) {
        self.push(Level::Error, key, value, detail, instead, Some(fix));
    }
    pub(super) fn warn(&mut self, key: impl Into<String>, value: impl ToString, detail: impl Into<String>, fix: &str) {
        self.push(Level::Warning, key, value, detail, None, Some(fix));
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            writeln!(f, "{x}")?;
        }
        Ok(())
    }
}
