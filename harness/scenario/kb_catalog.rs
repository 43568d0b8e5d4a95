//! The failure catalog (`shared/kb/CATALOG.md`) as data: every condition ID with its section and
//! one-line condition, so scenarios' `kb:` fields can be checked and reports can show coverage;
//! and, for the conditions the harness cannot express yet, the capability each one needs
//! ([`needs`]), so coverage says "not expressible yet (needs the service, issue 15)" rather than
//! only "no scenario".

/// Every catalog entry: (ID, section, condition), in catalog order.
pub const CATALOG: &[(&str, &str, &str)] = &[
    ("AV-POLICY-DOMAIN", "Audio/video does not start (KB 2386553)", "A/V turned off for the whole domain (tenant policy)"),
    ("AV-POLICY-USER", "Audio/video does not start (KB 2386553)", "A/V turned off for one user"),
    ("DEV-MISSING", "Audio/video does not start (KB 2386553)", "no audio (or video) device"),
    ("DEV-IN-USE", "Audio/video does not start (KB 2386553)", "device held exclusively by another program"),
    ("DEV-BROKEN", "Audio/video does not start (KB 2386553)", "device present but not working (silent mic, black camera)"),
    ("DEV-DRIVER-OLD", "Audio/video does not start (KB 2386553)", "outdated driver misbehaves (wrong format, stalls)"),
    ("NET-UDP-MEDIA-BLOCKED", "Audio/video does not start (KB 2386553)", "UDP 50000-59999 blocked, TCP 443 open"),
    ("NET-ALL-MEDIA-BLOCKED", "Audio/video does not start (KB 2386553)", "443 and 50000-59999 blocked"),
    ("NET-EDGE-BLOCKED", "Audio/video does not start (KB 2386553)", "traffic to or from the conferencing edge host blocked"),
    ("NET-BANDWIDTH", "Audio/video does not start (KB 2386553)", "bandwidth limited or reduced"),
    ("NET-ROAMING", "Audio/video does not start (KB 2386553)", "user moves between Wi-Fi access points"),
    ("NET-VPN", "Audio/video does not start (KB 2386553)", "user on a VPN"),
    ("NET-CONN-TYPE", "Audio/video does not start (KB 2386553)", "wired vs Wi-Fi vs VPN vs home office"),
    ("NET-SOCKET-STACK", "Audio/video does not start (KB 2386553)", "broken local socket layer (the article's Winsock reset)"),
    ("CONTACTS-ONE-VS-MANY", "Audio/video does not start (KB 2386553)", "fails with one contact, or with many"),
    ("FED-CONTACT-PERMISSION", "External contacts (federation)", "the two contacts have not added / have blocked each other (or \"block all invites\" is set)"),
    ("FED-DOMAIN-NOT-FEDERATED", "External contacts (federation)", "the other domain is not set up for federation"),
    ("FED-DOMAIN-NOT-ALLOWED", "External contacts (federation)", "the domain is missing from the allow list, or on the block list"),
    ("FED-EXTERNAL-OFF", "External contacts (federation)", "external communication turned off (org or user level)"),
    ("FED-SRV-MISSING", "External contacts (federation)", "the federation DNS SRV record is missing or wrong"),
    ("FED-PIC-OFF", "External contacts (federation)", "public IM connectivity turned off"),
    ("FED-PIC-FORMAT", "External contacts (federation)", "public IM contact with a custom-domain account added in the wrong address format"),
    ("FED-CLIENT-OLD", "External contacts (federation)", "external consumer client older than the minimum version"),
    ("FED-NO-VIDEO", "External contacts (federation)", "a Microsoft-account contact signed in to the consumer client"),
    ("FED-MEETING-JOIN", "External contacts (federation)", "external contact joining a meeting"),
    ("SVC-LOGIN", "Generic connection troubleshooting (consumer client)", "wrong or forgotten password"),
    ("SVC-OUTAGE", "Generic connection troubleshooting (consumer client)", "the service itself is down or degraded"),
    ("NET-OFFLINE", "Generic connection troubleshooting (consumer client)", "no network at all"),
    ("NET-CONTENTION", "Generic connection troubleshooting (consumer client)", "others on the same network use the bandwidth"),
    ("DEV-PERMISSION", "Generic connection troubleshooting (consumer client)", "the app has no permission for microphone or camera"),
    ("DEV-CAMERA-BLOCKED", "Generic connection troubleshooting (consumer client)", "camera covered, wrong camera selected"),
    ("DEV-MIC-DEAD", "Generic connection troubleshooting (consumer client)", "microphone no longer works"),
    ("DEV-OUTPUT-MUTED", "Generic connection troubleshooting (consumer client)", "system volume muted"),
    ("CLIENT-OUTDATED", "Generic connection troubleshooting (consumer client)", "old or damaged client install"),
    ("TEST-CALL", "Generic connection troubleshooting (consumer client)", "the echo / sound test service"),
    ("REMOTE-SIDE", "Generic connection troubleshooting (consumer client)", "everything works locally, the problem is the other party's"),
];

/// A capability the harness lacks, which some catalog conditions need before a scenario can
/// show their symptom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// The simulated service: sign-in, tenant and user policy, federation, client versions,
    /// the test-call service (issue 15).
    Service,
    /// Conferences: a meeting to join, with the service's permission check (issue 15).
    Conferences,
}

impl Capability {
    /// What is needed and where it is planned, for a coverage table: `the service, issue 15`.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::Service => "the service, issue 15",
            Capability::Conferences => "meetings and the SFU, issue 18",
        }
    }
}

/// The conditions the harness cannot express yet, with what each needs. Every other ID can be
/// written as a scenario today.
pub const NEEDS: &[(&str, Capability)] = &[("FED-MEETING-JOIN", Capability::Conferences)];

/// The capability condition `id` needs before the harness can express it; `None` when a
/// scenario can be written today (or the ID is not in the catalog).
pub fn needs(id: &str) -> Option<Capability> {
    NEEDS.iter().find(|(i, _)| *i == id).map(|(_, c)| *c)
}

/// Every catalog entry: (ID, section, condition).
pub fn catalog() -> &'static [(&'static str, &'static str, &'static str)] {
    CATALOG
}

/// Whether `id` is a catalog ID.
pub fn is_known(id: &str) -> bool {
    CATALOG.iter().any(|e| e.0 == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn catalog_has_every_section_and_unique_ids() {
        let c = super::catalog();
        assert_eq!(c.len(), 36);
        let mut ids: Vec<_> = c.iter().map(|e| e.0).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), c.len());
        assert!(super::is_known("NET-BANDWIDTH") && !super::is_known("NET-BANDWITH"));
    }

    #[test]
    fn what_cannot_be_expressed_yet_is_named_once_with_its_issue() {
        use super::{needs, Capability, NEEDS};
        let mut ids: Vec<&str> = NEEDS.iter().map(|(id, _)| *id).collect();
        assert!(ids.iter().all(|id| super::is_known(id)), "{ids:?}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), NEEDS.len());
        // 36 conditions: 12 network conditions (and the far end) the emulator and the edge's
        // relay can make, and 14 of the service's (sign-in, outage, A/V policy, client
        // version, federation, the test call), and 7 of the devices' (missing, in use, no
        // permission, broken microphone or camera, dead microphone, muted output, old driver,
        // covered camera), FED-NO-VIDEO with video calls; meetings are the one left.
        assert_eq!(NEEDS.len(), 1);
        for expressible in [
            "NET-ALL-MEDIA-BLOCKED",
            "NET-EDGE-BLOCKED",
            "NET-UDP-MEDIA-BLOCKED",
            "NET-SOCKET-STACK",
            "DEV-MISSING",
            "DEV-IN-USE",
            "DEV-PERMISSION",
            "DEV-BROKEN",
            "DEV-MIC-DEAD",
            "DEV-OUTPUT-MUTED",
            "DEV-DRIVER-OLD",
            "DEV-CAMERA-BLOCKED",
            "FED-NO-VIDEO",
            "NET-BANDWIDTH",
            "NET-ROAMING",
            "NET-VPN",
            "NET-CONN-TYPE",
            "CONTACTS-ONE-VS-MANY",
            "NET-OFFLINE",
            "NET-CONTENTION",
            "REMOTE-SIDE",
            "SVC-LOGIN",
            "SVC-OUTAGE",
            "AV-POLICY-DOMAIN",
            "AV-POLICY-USER",
            "CLIENT-OUTDATED",
            "FED-CONTACT-PERMISSION",
            "FED-DOMAIN-NOT-FEDERATED",
            "FED-DOMAIN-NOT-ALLOWED",
            "FED-EXTERNAL-OFF",
            "FED-SRV-MISSING",
            "FED-PIC-OFF",
            "FED-PIC-FORMAT",
            "FED-CLIENT-OLD",
            "TEST-CALL",
        ] {
            assert_eq!(needs(expressible), None, "{expressible}");
        }
        assert_eq!(needs("FED-PIC-OFF"), None);
        assert_eq!(needs("TEST-CALL"), None);
        assert_eq!(needs("FED-MEETING-JOIN"), Some(Capability::Conferences));
        assert_eq!(
            needs("FED-MEETING-JOIN").map(Capability::describe),
            Some("meetings and the SFU, issue 18")
        );
    }
}
