use super::*;

fn with(replace: &str, by: &str) -> String {
    assert!(EXAMPLE.contains(replace), "example has no {replace:?}");
    EXAMPLE.replacen(replace, by, 1)
}

fn err(text: &str) -> String {
    Config::parse(text, "test.toml").unwrap_err().to_string()
}

#[test]
fn example_file_is_valid() {
    let c = Config::parse(EXAMPLE, "atpilot.example.toml").unwrap();
    assert_eq!(c.autotask.target().unwrap(), AutotaskTarget::Sandbox);
    let reset = Category::new("password-reset").unwrap();
    assert_eq!(c.policy().category(&reset).phase, Phase::HumanInTheLoop);
    assert!(c.policy().category(&reset).safe);
    assert!(!c.approvers(&reset).is_empty());
    assert_eq!(c.promotion_policy().promote_at_percent, 90);
}

#[test]
fn billing_code_most_specific_rule_wins() {
    let c = Config::parse(EXAMPLE, "x").unwrap();
    let reset = Category::new("password-reset").unwrap();
    let other = Category::new("printer").unwrap();
    let default = c.billing_codes.default;
    assert_eq!(c.billing_codes.for_entry(&other, ContractKind::RecurringService), default);
    assert_ne!(c.billing_codes.for_entry(&reset, ContractKind::BlockHours), default);
    assert_ne!(
        c.billing_codes.for_entry(&reset, ContractKind::BlockHours),
        c.billing_codes.for_entry(&other, ContractKind::BlockHours)
    );
}

#[test]
fn unknown_keys_are_named() {
    let e = err(&with("[agent]", "[agent]\nresource_idd = 3"));
    assert!(e.contains("resource_idd"), "{e}");
}

#[test]
fn bad_values_name_the_problem() {
    let e = err(&with("min_confidence_for_autonomy = 0.9", "min_confidence_for_autonomy = 1.5"));
    assert!(e.contains("confidence must be a number between 0 and 1"), "{e}");
    let e = err(&with("resource_id = 5", "resource_id = 0"));
    assert!(e.contains("resource id must be a positive whole number"), "{e}");
    let e = err(&with("phase = \"human-in-the-loop\"", "phase = \"auto\""));
    assert!(e.contains("unknown variant") || e.contains("auto"), "{e}");
}

#[test]
fn semantic_errors_name_key_and_fix() {
    let e = err(&with("min_confidence_for_autonomy = 0.9", "min_confidence_for_autonomy = 0.5"));
    assert!(e.contains("`thresholds.min_confidence_for_autonomy`") && e.contains("Fix:"), "{e}");
    let e = err(&with("api_budget_share = 0.25", "api_budget_share = 1.5"));
    assert!(e.contains("autotask.api_budget_share"), "{e}");
    let e = err(&with("url = \"sandbox\"", "url = \"http://example.com/atservicesrest\""));
    assert!(e.contains("not HTTPS"), "{e}");
    let e = err(&with("safe = true", "safe = false"));
    assert!(e.contains("not marked safe"), "{e}");
    let e = err(&with("finance = [\"finance@msp.example\"]", "finance = [\"finance\"]"));
    assert!(e.contains("notifications.finance") && e.contains("not an e-mail"), "{e}");
}

#[test]
fn missing_file_and_env_are_clear() {
    let e = Config::load(Path::new("/nonexistent/atpilot.toml")).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/atpilot.toml"), "{e}");
    assert!(matches!(Config::from_env(|_| None), Err(ConfigError::Missing)));
    let c = Config::from_env(|k| (k == "ATPILOT_CONFIG").then(|| EXAMPLE.to_string())).unwrap();
    assert!(c.categories.len() >= 2);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.toml");
    std::fs::write(&p, EXAMPLE).unwrap();
    let path = p.display().to_string();
    assert!(Config::from_env(|k| (k == "ATPILOT_CONFIG_FILE").then(|| path.clone())).is_ok());
}

#[test]
fn credentials_come_from_named_variables_and_never_print() {
    let c = Config::parse(EXAMPLE, "x").unwrap();
    let e = c.autotask.credentials(|_| None).unwrap_err().to_string();
    assert!(e.contains("AUTOTASK_USERNAME"), "{e}");
    let creds = c.autotask.credentials(|k| Some(format!("value-of-{k}"))).unwrap();
    assert_eq!(creds.secret, "value-of-AUTOTASK_SECRET");
    let shown = format!("{creds:?}");
    assert!(!shown.contains("value-of-AUTOTASK_SECRET") && shown.contains("redacted"), "{shown}");
}

#[test]
fn llm_is_off_by_default_and_checked_when_on() {
    assert_eq!(Config::parse(EXAMPLE, "x").unwrap().model.llm, None);
    let on = |section: &str| {
        with(
            "physical_categories = [\"hardware\"]\n",
            &format!("physical_categories = [\"hardware\"]\n\n[model.llm]\n{section}\n"),
        )
    };
    let c = Config::parse(&on("provider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"https://api.openai.com/v1\"\napi_key_secret_arn = \"arn:aws:secretsmanager:us-east-1:1:secret:k\""), "x").unwrap();
    let llm = c.model.llm.unwrap();
    assert_eq!((llm.provider, llm.timeout_ms, llm.json_mode), (LlmProviderKind::Openai, 8000, true));
    let c = Config::parse(
        &on("provider = \"bedrock\"\nmodel = \"anthropic.claude-3-5-haiku-20241022-v1:0\"\nregion = \"eu-west-1\""),
        "x",
    )
    .unwrap();
    assert_eq!(c.model.llm.unwrap().provider, LlmProviderKind::Bedrock);
    for (section, key, hint) in [
        (
            "provider = \"openai\"\nmodel = \"m\"\nbase_url = \"https://x.example/v1\"\napi_key = \"sk-123\"",
            "model.llm.api_key",
            "Secrets Manager",
        ),
        ("provider = \"openai\"\nmodel = \"m\"", "model.llm.base_url", "https://api.openai.com/v1"),
        (
            "provider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://llm.example/v1\"",
            "model.llm.base_url",
            "use https",
        ),
        (
            "provider = \"openai\"\nmodel = \"m\"\nbase_url = \"https://x.example/v1\"\napi_key_secret_arn = \"sk-123\"",
            "model.llm.api_key_secret_arn",
            "arn:aws:secretsmanager",
        ),
        (
            "provider = \"bedrock\"\nmodel = \"m\"\nbase_url = \"https://x.example/v1\"",
            "model.llm.base_url",
            "bedrock:InvokeModel",
        ),
        ("provider = \"bedrock\"\nmodel = \" \"", "model.llm.model", "name the model"),
        ("provider = \"bedrock\"\nmodel = \"m\"\ntimeout_ms = 0", "model.llm.timeout_ms", "100 to 60000"),
    ] {
        let e = err(&on(section));
        assert!(e.contains(&format!("`{key}`")) && e.contains(hint), "{section}: {e}");
    }
    // plain http is fine for a local endpoint (the tests' stub, a local llama.cpp server)
    assert!(
        Config::parse(&on("provider = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:8000/v1\""), "x")
            .is_ok()
    );
    let e = err(&on("provider = \"claude\"\nmodel = \"m\""));
    assert!(e.contains("claude"), "{e}");
}

#[test]
fn a_category_that_acts_names_its_runbook() {
    let e = err(&with("runbook = \"reply-only\"\n", ""));
    assert!(e.contains("categories.password-reset.runbook") && e.contains("reply-only"), "{e}");
    let e = err(&with("runbook = \"reply-only\"", "runbook = \"graph-magic\""));
    assert!(e.contains("graph-magic") || e.contains("unknown variant"), "{e}");
    let c = Config::parse(EXAMPLE, "x").unwrap();
    assert_eq!(
        c.categories[&Category::new("password-reset").unwrap()].runbook,
        atpilot_domain::Runbook::plain(atpilot_domain::RunbookKind::ReplyOnly)
    );
}

#[test]
fn runbook_parameters_and_webhooks_are_checked() {
    let ms = "\n[microsoft]\nclient_id = \"x\"\n";
    let lic = with("runbook = \"reply-only\"", "runbook = \"graph-assign-license\"") + ms;
    let e = err(&lic);
    assert!(e.contains("categories.password-reset.runbook") && e.contains("needs `sku`"), "{e}");
    let ok = with("runbook = \"reply-only\"", "runbook = \"graph-assign-license\"\nsku = \"SPE_E3\"") + ms;
    let c = Config::parse(&ok, "x").unwrap();
    let rb = c.runbook(&Category::new("password-reset").unwrap()).unwrap();
    assert_eq!((rb.kind(), rb.parameter()), (atpilot_domain::RunbookKind::GraphAssignLicense, Some("SPE_E3")));
    let e = err(&with("runbook = \"reply-only\"", "runbook = \"reply-only\"\ngroup = \"a@b.example\""));
    assert!(e.contains("categories.password-reset.group") && e.contains("takes no parameter"), "{e}");
    let hook = with("runbook = \"reply-only\"", "runbook = \"webhook\"\nwebhook = \"rewst\"");
    let e = err(&hook);
    assert!(e.contains("categories.password-reset.webhook") && e.contains("[webhooks.rewst]"), "{e}");
    let e = err(&format!("{hook}\n[webhooks.rewst]\nurl = \"http://hooks.example/x\"\nsecret_env = \"S\"\n"));
    assert!(e.contains("webhooks.rewst.url") && e.contains("https"), "{e}");
    let c = Config::parse(
        &format!("{hook}\n[webhooks.rewst]\nurl = \"https://hooks.example/x\"\nsecret_env = \"S\"\n"),
        "x",
    )
    .unwrap();
    assert_eq!(c.webhooks["rewst"].callback_timeout_minutes, 24 * 60);
    let enable = with("runbook = \"reply-only\"", "runbook = \"graph-enable-sign-in\"").replacen(
        "phase = \"human-in-the-loop\"",
        "phase = \"autonomous\"",
        1,
    ) + ms;
    let e = err(&enable);
    assert!(e.contains("categories.password-reset.phase") && e.contains("may be a leaver's"), "{e}");
}

#[test]
fn google_runbooks_need_google_and_take_productid_skuid() {
    let g = "\n[google]\n[google.customers.29683002]\ncustomer_id = \"C03az79cb\"\nadmin = \"admin@c2.example\"\ndomains = [\"c2.example\"]\n";
    let ms = "\n[microsoft]\nclient_id = \"x\"\n";
    let out = with("runbook = \"reply-only\"", "runbook = \"google-sign-out\"");
    let e = err(&out);
    assert!(e.contains("categories.password-reset.runbook") && e.contains("no [google] section"), "{e}");
    let c = Config::parse(&format!("{out}{g}"), "x").unwrap();
    assert_eq!(
        c.google.as_ref().and_then(|g| g.customer_of(29683002)).map(|c| c.admin.as_str()),
        Some("admin@c2.example")
    );
    let bad = with("runbook = \"reply-only\"", "runbook = \"google-assign-license\"\nsku = \"1010020027\"");
    let e = err(&format!("{bad}{g}"));
    assert!(e.contains("categories.password-reset.sku") && e.contains("productId/skuId"), "{e}");
    let both = with(
        "runbook = \"reply-only\"",
        "runbook = \"graph-assign-license\"\nsku = \"SPE_E3\"\ngoogle_sku = \"Google-Apps/1010020027\"",
    );
    let c = Config::parse(&format!("{both}{ms}{g}"), "x").unwrap();
    let rb = c.runbook(&Category::new("password-reset").unwrap()).unwrap();
    assert_eq!((rb.parameter(), rb.google_sku()), (Some("SPE_E3"), Some("Google-Apps/1010020027")));
    let e = err(&format!("{}{ms}", both.replace("Google-Apps/1010020027", "1010020027")));
    assert!(e.contains("categories.password-reset.google_sku"), "{e}");
    let e =
        err(&format!("{}{g}", with("runbook = \"reply-only\"", "runbook = \"google-sign-out\"\ngoogle_sku = \"a/b\"")));
    assert!(e.contains("categories.password-reset.google_sku") && e.contains("takes no"), "{e}");
    let unsuspend = with("runbook = \"reply-only\"", "runbook = \"google-unsuspend\"").replacen(
        "phase = \"human-in-the-loop\"",
        "phase = \"autonomous\"",
        1,
    );
    let e = err(&format!("{unsuspend}{g}"));
    assert!(e.contains("categories.password-reset.phase") && e.contains("leaver's"), "{e}");
}

#[test]
fn a_twin_that_needs_a_human_is_what_the_decision_rules_see() {
    let g = "\n[google]\n[google.customers.29683002]\ncustomer_id = \"C03az79cb\"\nadmin = \"admin@c2.example\"\ndomains = [\"c2.example\"]\n";
    let ms = "\n[microsoft]\nclient_id = \"x\"\n";
    let group = with("runbook = \"reply-only\"", "runbook = \"graph-add-group-member\"\ngroup = \"staff@c2.example\"");
    let kind = |text: &str| {
        let c = Config::parse(text, "x").unwrap();
        c.policy.category(&Category::new("password-reset").unwrap()).runbook
    };
    // Microsoft 365 only: the Graph group add as configured.
    assert_eq!(kind(&format!("{group}{ms}")), Some(atpilot_domain::RunbookKind::GraphAddGroupMember));
    // With Google Workspace too: its twin, which needs a human, whatever phase is set later.
    let both = kind(&format!("{group}{ms}{g}"));
    assert_eq!(both, Some(atpilot_domain::RunbookKind::GoogleAddGroupMember));
    assert!(both.is_some_and(atpilot_domain::RunbookKind::needs_human));
}
