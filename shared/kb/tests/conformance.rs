//! One suite, every knowledge-base target: each test runs against the Hudu
//! sandbox, the IT Glue sandbox's documents and its flexible assets, through
//! the [`KnowledgeBase`] port, and reads the sandbox's own state back rather
//! than trusting the client.

use atpilot_kb::hudu::{Hudu, HuduConfig};
use atpilot_kb::itglue::{ItGlue, ItGlueConfig};
use atpilot_kb::{ArticleDraft, KbError, KnowledgeBase, closest};
use atpilot_kb_sandbox::{API_KEY, Recorded, Sandbox, hudu, itglue};
use std::time::Duration;

/// Where drafts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Hudu,
    /// IT Glue documents.
    ItGlue,
    /// IT Glue flexible assets of type [`KB_TYPE`].
    ItGlueAssets,
}

/// The flexible asset type the IT Glue sandbox holds KB articles in.
const KB_TYPE: i64 = 31;

/// A sandbox and a client of it.
enum Kb {
    Hudu(Sandbox<hudu::World>),
    ItGlue(Sandbox<itglue::World>, bool),
}

const ACME: i64 = 174;

impl Kb {
    /// A sandbox holding: "Acme Legal LLP" (synced, PSA id 174), "Birch Dental" (not
    /// synced), two companies named "Twin Co"; `n` articles of Acme, the `dup`-th
    /// of them the Outlook article.
    async fn start(target: Target, n: usize, dup: usize) -> Kb {
        let body = |i: usize| format!("<p>Routine article {i} about topic {i} and procedure {i}.</p>");
        let outlook =
            ("Reset an Outlook profile", "<p>Close Outlook. Open Mail in the Control Panel and add a profile.</p>");
        if target != Target::Hudu {
            let assets = target == Target::ItGlueAssets;
            let mut w = itglue::World::default();
            w.add_kb_type(KB_TYPE);
            for (id, name, psa) in [
                (1, "Acme Legal LLP", Some(ACME)),
                (2, "Birch Dental", None),
                (3, "Twin Co", None),
                (4, "Twin Co", None),
            ] {
                w.organizations.push(itglue::Organization {
                    id,
                    name: name.into(),
                    psa: psa.map(|p| ("autotask".into(), p.to_string())),
                });
            }
            for i in 1..=n {
                let (title, html) = if i == dup {
                    (outlook.0.to_string(), outlook.1.to_string())
                } else {
                    (format!("Note {i}"), body(i))
                };
                if assets {
                    w.add_asset(1, KB_TYPE, &title, &html);
                } else {
                    w.add_document(1, &title, &html);
                }
            }
            Kb::ItGlue(itglue::start(w).await.unwrap(), assets)
        } else {
            let mut w = hudu::World::default();
            for (id, name, psa) in [
                (1, "Acme Legal LLP", Some(ACME)),
                (2, "Birch Dental", None),
                (3, "Twin Co", None),
                (4, "Twin Co", None),
            ] {
                w.companies.push(hudu::Company {
                    id,
                    name: name.into(),
                    id_in_integration: psa.map(|p| p.to_string()),
                });
            }
            for i in 1..=n {
                if i == dup {
                    w.add_article(outlook.0, outlook.1, Some(1))
                } else {
                    w.add_article(&format!("Note {i}"), &body(i), Some(1))
                };
            }
            Kb::Hudu(hudu::start(w).await.unwrap())
        }
    }

    /// The client, with `key`, a page size, and fast rate-limit waits.
    fn client(&self, key: &str, page_size: usize) -> Box<dyn KnowledgeBase> {
        match self {
            Kb::Hudu(s) => Box::new(Hudu::new(HuduConfig {
                page_size,
                window: Duration::from_secs(2),
                drafts_folder_id: Some(9),
                ..HuduConfig::new(hudu::base(s), key)
            })),
            Kb::ItGlue(s, assets) => Box::new(ItGlue::new(ItGlueConfig {
                page_size,
                base_delay: Duration::from_millis(600),
                flexible_asset_type_id: assets.then_some(KB_TYPE),
                ..ItGlueConfig::new(itglue::base(s), key)
            })),
        }
    }

    fn requests(&self) -> Vec<Recorded> {
        match self {
            Kb::Hudu(s) => s.requests(),
            Kb::ItGlue(s, _) => s.requests(),
        }
    }

    fn set_knobs(&self, f: impl FnOnce(&mut atpilot_kb_sandbox::Knobs)) {
        match self {
            Kb::Hudu(s) => s.set_knobs(f),
            Kb::ItGlue(s, _) => s.set_knobs(f),
        }
    }

    /// (title, content, published) of every stored article with `title`, from the sandbox itself.
    fn stored(&self, title: &str) -> Vec<(String, String, bool)> {
        match self {
            Kb::Hudu(s) => s.with_world(|w| {
                w.articles
                    .iter()
                    .filter(|a| a.name == title)
                    .map(|a| (a.name.clone(), a.content.clone(), true))
                    .collect()
            }),
            Kb::ItGlue(s, true) => s.with_world(|w| {
                w.flexible_assets
                    .iter()
                    .filter(|a| a.traits.get("title").and_then(|t| t.as_str()) == Some(title))
                    .map(|a| (title.to_string(), a.traits["body"].as_str().unwrap_or_default().to_string(), true))
                    .collect()
            }),
            Kb::ItGlue(s, false) => s.with_world(|w| {
                w.documents
                    .iter()
                    .filter(|d| d.name == title)
                    .map(|d| {
                        (
                            d.name.clone(),
                            d.sections.iter().map(|s| s.1.clone()).collect::<Vec<_>>().join("\n"),
                            d.published,
                        )
                    })
                    .collect()
            }),
        }
    }
}

fn every() -> [Target; 3] {
    [Target::Hudu, Target::ItGlue, Target::ItGlueAssets]
}

#[tokio::test]
async fn companies_match_by_psa_id_then_exact_name_and_are_never_guessed() {
    for it in every() {
        let kb = Kb::start(it, 3, 0).await;
        let c = kb.client(API_KEY, 100);
        let acme = c.company(ACME, "A name that differs").await.unwrap().expect("by PSA id");
        assert_eq!(acme.name, "Acme Legal LLP", "{}", c.name());
        let birch = c.company(999, "  Birch Dental ").await.unwrap().expect("by exact name");
        assert_eq!(birch.name, "Birch Dental", "{}", c.name());
        assert_eq!(c.company(998, "Birch").await.unwrap(), None, "{}: a partial name is no match", c.name());
        let twins = c.company(997, "Twin Co").await.unwrap_err();
        assert!(matches!(twins, KbError::Ambiguous { count: 2, .. }), "{}: {twins}", c.name());
    }
}

#[tokio::test]
async fn hudu_finds_the_psa_id_in_integrations_too() {
    // [U] in the reference: the Autotask id as `id_in_integration`, or only in `integrations[]`.
    let kb = Kb::start(Target::Hudu, 1, 0).await;
    kb.set_knobs(|k| k.psa_id_in_integrations = true);
    let c = kb.client(API_KEY, 100);
    let acme = c.company(ACME, "A name Hudu does not know").await.unwrap().expect("by the integration's sync id");
    assert_eq!(acme.name, "Acme Legal LLP");
    assert_eq!(c.company(999, "Nobody").await.unwrap(), None);
}

#[tokio::test]
async fn every_page_is_read_and_the_near_duplicate_is_found_on_page_three() {
    for it in every() {
        // 50 per page: the Outlook article is the 110th of 120, on page 3.
        let kb = Kb::start(it, 120, 110).await;
        let c = kb.client(API_KEY, 50);
        let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
        assert_eq!(c.articles(&acme).await.unwrap().len(), 120, "{}: nothing truncated", c.name());
        let draft = ArticleDraft {
            title: "Outlook profile reset".into(),
            html: "<p>Close Outlook, then open Mail in the Control Panel and add a new profile.</p>".into(),
        };
        let (found, score) = closest(c.as_ref(), &acme, &draft).await.unwrap().unwrap();
        assert_eq!(found.title, "Reset an Outlook profile", "{}", c.name());
        assert!(score > 0.6, "{}: {score}", c.name());
        let pages = kb.requests().iter().filter(|r| r.query.as_deref().is_some_and(|q| q.contains("page"))).count();
        assert!(pages >= 4, "{}: the company search and three pages of articles: {pages}", c.name());
    }
}

#[tokio::test]
async fn a_draft_is_created_once_unpublished_and_read_back() {
    for it in every() {
        let kb = Kb::start(it, 2, 0).await;
        let c = kb.client(API_KEY, 100);
        let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
        let draft = ArticleDraft { title: "Map a network drive".into(), html: "<p>Open File Explorer.</p>".into() };
        let first = c.create_draft(&acme, &draft).await.unwrap();
        let again = c.create_draft(&acme, &draft).await.unwrap();
        assert_eq!(first.id, again.id, "{}: a second call finds the first draft", c.name());
        let stored = kb.stored("Map a network drive");
        assert_eq!(stored.len(), 1, "{}: one article", c.name());
        assert_eq!(stored[0].1, "<p>Open File Explorer.</p>", "{}: its text as sent", c.name());
        match it {
            Target::ItGlue => assert!(!stored[0].2 && first.draft, "IT Glue: left a draft"),
            // Flexible assets have no draft state: never claimed one, and where it is is said.
            Target::ItGlueAssets => {
                assert!(!first.draft);
                assert!(c.placement().unwrap().contains("flexible asset"), "{:?}", c.placement());
            }
            Target::Hudu => assert!(c.placement().unwrap().contains("drafts folder")),
        }
        assert!(!kb.requests().iter().any(|r| r.path.ends_with("/publish")), "{}: never published", c.name());
    }
}

#[tokio::test]
async fn a_bad_key_is_a_clear_error() {
    for it in every() {
        let kb = Kb::start(it, 1, 0).await;
        let c = kb.client("wrong", 100);
        let e = c.company(ACME, "Acme Legal LLP").await.unwrap_err();
        assert!(matches!(e, KbError::Unauthorized { status: 401 | 403, .. }), "{e}");
        assert!(e.to_string().contains("API key"), "{e}");
    }
}

#[tokio::test]
async fn the_rate_limit_is_waited_out() {
    for it in every() {
        let kb = Kb::start(it, 1, 0).await;
        // Two requests per 2-second window: the third waits for the next window.
        kb.set_knobs(|k| {
            k.limit_per_window = 2;
            k.window_secs = 2;
        });
        let c = kb.client(API_KEY, 100);
        let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
        // Five requests at two per window: at least one is refused, whatever the clock.
        for _ in 0..4 {
            assert_eq!(c.articles(&acme).await.unwrap().len(), 1, "{}", c.name());
        }
        assert!(kb.requests().iter().any(|r| r.status == 429), "{}: it was refused at least once", c.name());
        assert_eq!(kb.requests().last().map(|r| r.status), Some(200), "{}", c.name());
    }
}

#[tokio::test]
async fn a_rate_limit_that_never_lifts_gives_up_with_nothing_written() {
    let kb = Kb::start(Target::ItGlue, 1, 0).await;
    let Kb::ItGlue(s, _) = &kb else { unreachable!() };
    let config = ItGlueConfig {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        ..ItGlueConfig::new(itglue::base(s), API_KEY)
    };
    let c = ItGlue::new(config);
    let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
    // Reads pass, every write is refused: the creation is tried three times, then given up.
    kb.set_knobs(|k| k.throttle_writes = true);
    let draft = ArticleDraft { title: "Never".into(), html: "<p>x</p>".into() };
    let e = c.create_draft(&acme, &draft).await.unwrap_err();
    assert!(matches!(e, KbError::RateLimited { attempts: 3, .. }), "{e}");
    assert!(kb.stored("Never").is_empty());
    let refused: Vec<_> = kb.requests().into_iter().filter(|r| r.status == 429).collect();
    assert_eq!(refused.len(), 3, "three attempts, then it stopped: {refused:?}");
    assert!(refused.iter().all(|r| r.method == "POST"), "{refused:?}");

    // A wait longer than the caller allows is not waited: the queue brings the work back.
    kb.set_knobs(|k| k.limit_per_window = 0);
    let slow = ItGlue::new(ItGlueConfig {
        max_wait: Duration::from_millis(50),
        base_delay: Duration::from_secs(5),
        ..ItGlueConfig::new(itglue::base(s), API_KEY)
    });
    let started = std::time::Instant::now();
    let e = slow.articles(&acme).await.unwrap_err();
    assert!(matches!(e, KbError::RateLimited { attempts: 1, .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3), "it did not sleep the 5 s");
}

#[tokio::test]
async fn itglue_completes_a_document_a_crash_left_without_text() {
    let kb = Kb::start(Target::ItGlue, 1, 0).await;
    let Kb::ItGlue(s, _) = &kb else { unreachable!() };
    s.with_world(|w| {
        w.documents.push(itglue::Document {
            id: 50,
            name: "Half written".into(),
            organization_id: 1,
            published: false,
            sections: vec![],
        })
    });
    let c = kb.client(API_KEY, 100);
    let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
    let a = c
        .create_draft(&acme, &ArticleDraft { title: "Half written".into(), html: "<p>Steps.</p>".into() })
        .await
        .unwrap();
    assert_eq!(a.id, "50");
    assert_eq!(kb.stored("Half written"), [("Half written".to_string(), "<p>Steps.</p>".to_string(), false)]);
}

#[tokio::test]
async fn hudu_accepts_a_bare_created_article_and_errors_carry_the_message() {
    let kb = Kb::start(Target::Hudu, 1, 0).await;
    kb.set_knobs(|k| k.bare_created_article = true);
    let c = kb.client(API_KEY, 100);
    let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
    let a = c.create_draft(&acme, &ArticleDraft { title: "Bare".into(), html: "<p>b</p>".into() }).await.unwrap();
    assert_eq!(a.title, "Bare");
    let Kb::Hudu(s) = &kb else { unreachable!() };
    assert_eq!(
        s.with_world(|w| w.articles.iter().find(|x| x.name == "Bare").and_then(|x| x.folder_id)),
        Some(9),
        "in the drafts folder"
    );
    let e = c.create_draft(&acme, &ArticleDraft { title: " ".into(), html: String::new() }).await.unwrap_err();
    assert!(e.to_string().contains("Name can't be blank"), "{e}");
}

#[tokio::test]
async fn itglue_flexible_assets_need_their_type_filter_and_a_fillable_type() {
    let kb = Kb::start(Target::ItGlueAssets, 1, 0).await;
    let Kb::ItGlue(s, _) = &kb else { unreachable!() };
    // The sandbox refuses a listing without the type, as IT Glue does.
    let bare = reqwest::Client::new()
        .get(format!("{}/flexible_assets", itglue::base(s)))
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 422);
    assert!(kb.requests().iter().any(|r| r.path == "/flexible_assets" && r.status == 422));
    // A type with a required field atpilot cannot fill is refused with the field named, and nothing written.
    s.with_world(|w| {
        let t = w.flexible_asset_types.iter_mut().find(|t| t.id == KB_TYPE).unwrap();
        t.fields.iter_mut().find(|f| f.name_key == "related").unwrap().required = true;
    });
    let c = kb.client(API_KEY, 100);
    let acme = c.company(ACME, "Acme Legal LLP").await.unwrap().unwrap();
    let e = c.create_draft(&acme, &ArticleDraft { title: "T".into(), html: "<p>b</p>".into() }).await.unwrap_err();
    assert!(e.to_string().contains("\"related\"") && e.to_string().contains("cannot fill"), "{e}");
    assert_eq!(s.with_world(|w| w.flexible_assets.len()), 1, "nothing created");
}
