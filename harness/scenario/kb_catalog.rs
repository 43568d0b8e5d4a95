//! The failure catalog (`shared/kb/CATALOG.md`) as data: every condition ID with its section and
//! one-line condition, so scenarios' `kb:` fields can be checked and reports can show coverage.

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
}
