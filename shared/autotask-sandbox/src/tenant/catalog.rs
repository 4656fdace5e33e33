//! The static tables of the seeded tenant: queue ids and labels, issue
//! categories with their sub-issues, title templates, queues and weights, and
//! the names companies, contacts and technicians are made of.

pub(super) struct Category {
    pub(super) issue: i64,
    pub(super) issue_label: &'static str,
    pub(super) subs: &'static [(i64, &'static str, &'static [&'static str])],
    pub(super) queue: i64,
    pub(super) weight: u64,
}

// Queue ids, loosely in Autotask's style.
pub(super) const Q_PORTAL: i64 = 29682833;
pub(super) const Q_SERVICE_DESK: i64 = 29683481;
pub(super) const Q_MONITORING: i64 = 29683354;
pub(super) const Q_TIER2: i64 = 29683482;
pub(super) const Q_FIELD: i64 = 29683483;
pub(super) const Q_NETWORK: i64 = 29683484;
pub(super) const Q_SECURITY: i64 = 29683485;
pub(super) const Q_PROJECTS: i64 = 29683486;
pub(super) const Q_PROVISIONING: i64 = 29683487;
pub(super) const Q_M365: i64 = 29683488;
pub(super) const Q_TRIAGE: i64 = 29683490;
pub(super) const Q_GENERAL: i64 = 29683491;
pub(super) const Q_MISC: i64 = 29683492;
pub(super) const Q_LEGACY: i64 = 29683499;

pub(super) const QUEUES: &[(i64, &str)] = &[
    (Q_PORTAL, "Client Portal"),
    (29682969, "Post Sale"),
    (Q_MONITORING, "Monitoring Alerts"),
    (Q_SERVICE_DESK, "Service Desk"),
    (Q_TIER2, "Tier 2 Support"),
    (Q_FIELD, "Field Services"),
    (Q_NETWORK, "Network Operations"),
    (Q_SECURITY, "Security Operations"),
    (Q_PROJECTS, "Projects"),
    (Q_PROVISIONING, "Provisioning"),
    (Q_M365, "Microsoft 365"),
    (29683489, "Procurement"),
    (Q_TRIAGE, "Triage"),
    (Q_GENERAL, "General"),
    (Q_MISC, "Misc / Unsorted"),
    (29683493, "Billing Questions"),
    (29683494, "Onboarding"),
    (29683495, "Offboarding"),
    (29683496, "Backup & DR"),
    (29683497, "Line of Business Apps"),
    (29683498, "After Hours"),
    (Q_LEGACY, "Legacy Escalations"),
    (29683500, "Printers"),
    (29683501, "Tier 3 Escalations"),
];

pub(super) const CATEGORIES: &[Category] = &[
    Category {
        issue: 1,
        issue_label: "Account Management",
        subs: &[
            (
                101,
                "Password Reset",
                &[
                    "Password reset for {user}",
                    "{user} locked out, needs a new password",
                    "Cannot log in: forgot password",
                ],
            ),
            (
                102,
                "MFA Enrollment",
                &[
                    "Enroll {user} in MFA",
                    "New phone, MFA needs re-registering for {user}",
                    "Authenticator app not prompting",
                ],
            ),
            (103, "New User", &["New starter {user} next Monday", "Create account for {user}"]),
            (104, "Offboarding", &["Leaver: disable account for {user}", "Remove access for {user}"]),
        ],
        queue: Q_SERVICE_DESK,
        weight: 26,
    },
    Category {
        issue: 2,
        issue_label: "Licensing",
        subs: &[
            (
                201,
                "Microsoft 365 License Request",
                &["Need a Microsoft 365 licence for {user}", "Assign E3 licence to {user}", "Visio licence request"],
            ),
            (202, "License Removal", &["Remove licence from {user}", "Reclaim unused Microsoft 365 licences"]),
        ],
        queue: Q_M365,
        weight: 12,
    },
    Category {
        issue: 3,
        issue_label: "Email",
        subs: &[
            (301, "Mailbox Full", &["Mailbox full for {user}", "Cannot send: mailbox over quota"]),
            (
                302,
                "Shared Mailbox Access",
                &["Give {user} access to the accounts@ shared mailbox", "Shared calendar permissions"],
            ),
            (
                303,
                "Phishing Report",
                &["Suspicious email received by {user}", "Possible phishing: \"Invoice overdue\" & attachment"],
            ),
        ],
        queue: Q_SERVICE_DESK,
        weight: 14,
    },
    Category {
        issue: 4,
        issue_label: "Hardware",
        subs: &[
            (
                401,
                "Laptop Failure",
                &["Laptop won't power on ({user})", "Cracked screen on {user}'s laptop", "Keyboard not working"],
            ),
            (
                402,
                "Printer",
                &["Printer offline on 2nd floor", "Paper jam <again> in reception printer", "Scanner not emailing"],
            ),
            (403, "Peripheral", &["Docking station not detecting monitors", "Headset request for {user}"]),
        ],
        queue: Q_FIELD,
        weight: 10,
    },
    Category {
        issue: 5,
        issue_label: "Network",
        subs: &[
            (501, "Internet Outage", &["Whole office has no internet", "Internet down at branch site"]),
            (502, "VPN", &["VPN not connecting for {user}", "VPN drops every 10 minutes"]),
            (503, "Wi-Fi", &["Guest Wi-Fi password change", "Wi-Fi slow in meeting room"]),
        ],
        queue: Q_NETWORK,
        weight: 8,
    },
    Category {
        issue: 6,
        issue_label: "Monitoring Alert",
        subs: &[
            (601, "Disk Space", &["Disk space low on FS01 (C: 4% free)", "Volume D: below 10% on SQL02"]),
            (602, "Backup Failure", &["Backup job failed: nightly-full", "Backup warning: 3 files skipped"]),
            (603, "Server Offline", &["Agent offline: DC01", "Server not responding to ping: APP03"]),
            (604, "Antivirus Alert", &["Threat quarantined on {user}-PC", "AV definitions out of date"]),
        ],
        queue: Q_MONITORING,
        weight: 18,
    },
    Category {
        issue: 7,
        issue_label: "Software",
        subs: &[
            (701, "Install Request", &["Install Adobe Acrobat for {user}", "Need Zoom installed"]),
            (702, "Application Error", &["Line-of-business app crashes on start", "Excel keeps freezing for {user}"]),
        ],
        queue: Q_TIER2,
        weight: 8,
    },
    Category {
        issue: 8,
        issue_label: "Project Work",
        subs: &[
            (801, "Migration", &["Phase 2: migrate file shares to SharePoint", "Server migration cut-over"]),
            (802, "Site Move", &["Office move: patch panel and desks"]),
        ],
        queue: Q_PROJECTS,
        weight: 3,
    },
    Category {
        issue: 9,
        issue_label: "Security",
        subs: &[
            (901, "Suspicious Sign-in", &["Impossible travel sign-in for {user}", "Risky sign-in detected"]),
            (902, "Malware", &["Ransomware note on a workstation", "Pop-ups on {user}'s PC"]),
        ],
        queue: Q_SECURITY,
        weight: 3,
    },
];

pub(super) const FIRST_NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Priya", "Chen", "Maria", "José", "Fatima", "Liam", "Olivia", "Noah", "Emma", "Zoë",
    "Hiro", "Aisha", "Lukas",
];
pub(super) const LAST_NAMES: &[&str] = &[
    "Smith", "Patel", "Nguyen", "García", "Müller", "O'Brien", "Kowalski", "Johnson", "Tanaka", "Okafor", "Rossi",
    "Dubois",
];
pub(super) const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Gringotts",
    "Oceanic",
    "Dunder",
    "Monarch",
    "Pied Piper",
    "Massive",
    "Aperture",
    "Black Mesa",
    "Sterling",
    "Bluth",
    "Prestige",
    "Virtucon",
    "Nakatomi",
    "Gekko",
    "Krusty",
    "Duff",
    "Oscorp",
    "Zorg",
    "Buy n Large",
    "Rekall",
    "Weyland",
];
pub(super) const COMPANY_SUFFIX: &[&str] = &[
    "Legal LLP",
    "Dental",
    "Accounting",
    "Logistics",
    "Manufacturing",
    "Architects",
    "Clinic",
    "& Sons",
    "Foundation",
    "Realty",
];

#[derive(Debug, Clone)]
pub(super) struct CompanyInfo {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) contacts: Vec<i64>,
    pub(super) contact_names: Vec<String>,
    pub(super) contracts: Vec<(i64, i64)>,
}

#[derive(Debug, Clone)]
pub(super) struct Tech {
    pub(super) id: i64,
    pub(super) role: i64,
}
