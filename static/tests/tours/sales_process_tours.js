import { registry } from "@web/core/registry";

/* What the salesperson sees after each move: the current step of the
   statusbar, the transition buttons offered and those that must not be. */
function expectStep(step, present = [], absent = []) {
    const steps = [
        {
            content: `the statusbar shows "${step}" as the current step`,
            trigger: `.o_statusbar_status button.o_arrow_button_current:contains('${step}')`,
        },
    ];
    for (const name of present) {
        steps.push({
            content: `"${name}" is offered`,
            trigger: `.o_statusbar_buttons button[name='action_sales_process_transition']:contains('${name}')`,
        });
    }
    for (const name of absent) {
        steps.push({
            content: `"${name}" is not offered`,
            trigger: `.o_statusbar_buttons:not(:has(button:contains('${name}')))`,
        });
    }
    return steps;
}

function clickTransition(name) {
    return {
        content: `click "${name}"`,
        trigger: `.o_statusbar_buttons button[name='action_sales_process_transition']:contains('${name}')`,
        run: "click",
    };
}

const confirmForm = [
    { content: "confirm the transition form", trigger: ".modal button[name='action_confirm']", run: "click" },
    { content: "the form is closed", trigger: "body:not(:has(.modal))" },
];

const NATIVE = ["Convert to Opportunity", "Restore"];

registry.category("web_tour.tours").add("crm_sales_process_lead_to_won", {
    steps: () => [
        { content: "name the lead", trigger: ".o_field_widget[name=name] textarea", run: "edit SP Tour Lead" },
        { content: "its company", trigger: ".o_field_widget[name=partner_name] input", run: "edit SP Tour Company" },
        { content: "its contact", trigger: ".o_field_widget[name=contact_name] input", run: "edit Tina Tour" },
        { content: "save", trigger: ".o_form_button_save", run: "click" },
        { content: "saved", trigger: ".o_form_saved" },
        {
            content: "no step yet, no transition",
            trigger: ".o_form_view:not(:has(button[name='action_sales_process_transition']))",
        },
        { content: "start the process", trigger: "button[name='action_start_sales_process']", run: "click" },
        ...expectStep("New Lead", ["Qualify", "Disqualify"], [...NATIVE, "Develop", "Start Sales Process"]),
        clickTransition("Qualify"),
        {
            content: "the opportunity name defaults to the lead's",
            trigger: ".modal .o_field_widget[name=opportunity_name] input:value('SP Tour Lead')",
        },
        {
            content: "the company name defaults to the lead's",
            trigger: ".modal .o_field_widget[name=company_name] input:value('SP Tour Company')",
        },
        { content: "only qualify's values are asked", trigger: ".modal:not(:has(.o_field_widget[name=close_revenue]))" },
        ...confirmForm,
        ...expectStep("New Opportunity", ["Develop", "Close as Won", "Close as Lost"], ["Qualify", ...NATIVE]),
        {
            content: "Odoo's own Won and Lost buttons are replaced",
            trigger: ".o_statusbar_buttons:not(:has(button[name='action_set_won_rainbowman']))",
        },
        clickTransition("Develop"),
        {
            content: "the customer is the company found or created when qualifying",
            trigger: ".modal .o_field_widget[name=partner_id] input:value('SP Tour Company')",
        },
        { content: "budget", trigger: ".modal .o_field_widget[name=budget_amount] input", run: "edit 20000" },
        { content: "need", trigger: ".modal .o_field_widget[name=customer_need] textarea", run: "edit Faster delivery" },
        ...confirmForm,
        ...expectStep("Developed Opportunity", ["Close as Won", "Close as Lost"], ["Develop", "Qualify"]),
        { content: "the development tab shows the budget", trigger: ".o_notebook a:contains('Sales Process')", run: "click" },
        { content: "budget shown", trigger: ".o_field_widget[name=customer_need]:contains('Faster delivery'), .o_field_widget[name=customer_need] textarea:value('Faster delivery')" },
        clickTransition("Close as Won"),
        { content: "revenue", trigger: ".modal .o_field_widget[name=close_revenue] input", run: "edit 19000" },
        { content: "close date is asked", trigger: ".modal .o_field_widget[name=close_date]" },
        ...confirmForm,
        ...expectStep("Won Opportunity", ["Reopen"], ["Close as Won", "Close as Lost", "Develop", ...NATIVE]),
        {
            content: "a banner says why the form is read-only and what can be done",
            trigger: ".alert:contains('closed in its Sales Process'):contains('Reopen')",
        },
        { content: "the form is read-only", trigger: ".o_field_widget[name=name]:not(:has(textarea))" },
        clickTransition("Reopen"),
        {
            content: "reopen asks for confirmation and says a new opportunity will be created",
            trigger: ".modal:contains('A new opportunity will be created') .modal-footer .btn-primary",
            run: "click",
        },
        ...expectStep("New Opportunity", ["Develop", "Close as Won"], ["Reopen"]),
        {
            content: "the new opportunity links to the closed one",
            trigger: ".o_field_widget[name=sales_process_origin_id] a:contains('SP Tour Lead'), .o_field_widget[name=sales_process_origin_id]:contains('SP Tour Lead')",
        },
        { content: "and is editable", trigger: ".o_field_widget[name=name] textarea" },
    ],
});

registry.category("web_tour.tours").add("crm_sales_process_disqualify_reactivate", {
    steps: () => [
        ...expectStep("New Lead", ["Qualify", "Disqualify"], NATIVE),
        clickTransition("Disqualify"),
        { content: "reason", trigger: ".modal .o_field_widget[name=reason] textarea", run: "edit No budget this year" },
        ...confirmForm,
        ...expectStep("Disqualified Lead", ["Follow Up", "Reactivate"], ["Qualify", "Disqualify", ...NATIVE]),
        {
            content: "the banner tells what can be done",
            trigger: ".alert:contains('closed in its Sales Process'):contains('Reactivate')",
        },
        { content: "the form is read-only", trigger: ".o_field_widget[name=name]:not(:has(textarea))" },
        clickTransition("Follow Up"),
        { content: "only the note is asked", trigger: ".modal:not(:has(.o_field_widget[name=reason]))" },
        { content: "note", trigger: ".modal .o_field_widget[name=note] textarea", run: "edit Call back in spring" },
        ...confirmForm,
        ...expectStep("Disqualified Lead", ["Follow Up", "Reactivate"]),
        { content: "the note is in the chatter", trigger: ".o-mail-Message:contains('Call back in spring')" },
        clickTransition("Reactivate"),
        ...expectStep("New Lead", ["Qualify", "Disqualify"], ["Reactivate", "Follow Up"]),
        {
            content: "the new lead links to the disqualified one",
            trigger: ".o_field_widget[name=sales_process_origin_id]:contains('SP Tour Disqualify')",
        },
        { content: "and is editable", trigger: ".o_field_widget[name=name] textarea" },
    ],
});

registry.category("web_tour.tours").add("crm_sales_process_kanban", {
    steps: () => [
        {
            content: "the card waits in New Opportunity",
            trigger: ".o_kanban_group:has(.o_column_title:contains('New Opportunity')) .o_kanban_record:contains('SP Kanban Deal')",
        },
        {
            content: "drag it to Developed Opportunity",
            trigger: ".o_kanban_record:contains('SP Kanban Deal')",
            run: "drag_and_drop (.o_kanban_group:has(.o_column_title:contains('Developed Opportunity')))",
        },
        {
            content: "Develop takes values: its form opens",
            trigger: ".modal .o_field_widget[name=partner_id] input:value('SP Kanban Customer')",
        },
        { content: "budget", trigger: ".modal .o_field_widget[name=budget_amount] input", run: "edit 5000" },
        ...confirmForm,
        {
            content: "the card is now in Developed Opportunity",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Developed Opportunity')) .o_kanban_record:contains('SP Kanban Deal')",
        },
        {
            content: "drag it back to New Lead, where no transition leads",
            trigger: ".o_kanban_record:contains('SP Kanban Deal')",
            run: "drag_and_drop (.o_kanban_group:has(.o_column_title:contains('New Lead')))",
        },
        {
            content: "the move is refused with a message",
            trigger: ".modal:contains('No transition leads') .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "and the card stays in Developed Opportunity",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Developed Opportunity')) .o_kanban_record:contains('SP Kanban Deal')",
        },
        {
            content: "a card in New Lead: Disqualify has an optional reason, its form opens",
            trigger: ".o_kanban_record:contains('SP Kanban Lead')",
            run: "drag_and_drop (.o_kanban_group:has(.o_column_title:contains('Disqualified Lead')))",
        },
        { content: "cancel the form", trigger: ".modal .modal-footer button:contains('Cancel')", run: "click" },
        {
            content: "cancelled: the card stays in New Lead",
            trigger: ".o_kanban_group:has(.o_column_title:contains('New Lead')) .o_kanban_record:contains('SP Kanban Lead')",
        },
    ],
});

/* Round trips of each button: a marker request before each click lets the
   test (test_ui.py) count the requests the click makes, up to the next
   marker, once the screen has settled. */
function countFrom(label) {
    return {
        content: `count the requests of "${label}" from here`,
        trigger: "body:not(:has(.o_loading_indicator)):not(:has(.modal))",
        run: async () => {
            await fetch(`/web/webclient/version_info?sp_round_trips=${encodeURIComponent(label)}`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ jsonrpc: "2.0", method: "call", params: {} }),
            });
        },
    };
}

const settled = { content: "the screen has settled", trigger: "body:not(:has(.o_loading_indicator))" };

registry.category("web_tour.tours").add("crm_sales_process_round_trips", {
    steps: () => [
        ...expectStep("New Lead", ["Qualify", "Disqualify"]),
        countFrom("Qualify"),
        clickTransition("Qualify"),
        ...confirmForm,
        ...expectStep("New Opportunity", ["Develop", "Close as Won", "Close as Lost"]),
        countFrom("Develop"),
        clickTransition("Develop"),
        ...confirmForm,
        ...expectStep("Developed Opportunity", ["Back to New"]),
        countFrom("Back to New (a transition of no value, no confirmation)"),
        clickTransition("Back to New"),
        ...expectStep("New Opportunity", ["Develop"]),
        countFrom("Close as Won"),
        clickTransition("Close as Won"),
        ...confirmForm,
        ...expectStep("Won Opportunity", ["Reopen"]),
        countFrom("Reopen"),
        clickTransition("Reopen"),
        {
            content: "confirm in the browser's dialog",
            trigger: ".modal:contains('A new opportunity will be created') .modal-footer .btn-primary",
            run: "click",
        },
        ...expectStep("New Opportunity", ["Develop"]),
        countFrom("Close as Lost"),
        clickTransition("Close as Lost"),
        { content: "reason", trigger: ".modal .o_field_widget[name=lost_reason_id] input", run: "edit Outsold" },
        { content: "pick it", trigger: ".o-autocomplete--dropdown-item:contains('Outsold')", run: "click" },
        ...confirmForm,
        ...expectStep("Lost Opportunity", ["Reopen"]),
        settled,
        countFrom("end"),
    ],
});

registry.category("web_tour.tours").add("crm_sales_process_round_trips_lead", {
    steps: () => [
        ...expectStep("New Lead", ["Qualify", "Disqualify"]),
        countFrom("Disqualify"),
        clickTransition("Disqualify"),
        ...confirmForm,
        ...expectStep("Disqualified Lead", ["Follow Up", "Reactivate"]),
        countFrom("Follow Up"),
        clickTransition("Follow Up"),
        { content: "note", trigger: ".modal .o_field_widget[name=note] textarea", run: "edit Call back in spring" },
        ...confirmForm,
        { content: "the note is in the chatter", trigger: ".o-mail-Message:contains('Call back in spring')" },
        countFrom("Reactivate"),
        clickTransition("Reactivate"),
        ...expectStep("New Lead", ["Qualify"]),
        settled,
        countFrom("end"),
    ],
});

/* Odoo's own Lost, Restore and Won buttons on an opportunity outside any process. */
registry.category("web_tour.tours").add("crm_sales_process_round_trips_odoo", {
    steps: () => [
        { content: "Odoo's Lost button", trigger: ".o_statusbar_buttons button:contains('Lost')" },
        countFrom("Odoo's Lost"),
        { content: "lost", trigger: ".o_statusbar_buttons button:contains('Lost')", run: "click" },
        {
            content: "a reason",
            trigger: ".modal .o_field_widget[name=lost_reason_id] :contains('Outsold'):not(:has(*:contains('Outsold')))",
            run: "click",
        },
        { content: "mark as lost", trigger: ".modal button[name='action_lost_reason_apply']", run: "click" },
        { content: "restorable", trigger: ".o_statusbar_buttons button[name='action_restore']" },
        settled,
        countFrom("Odoo's Restore"),
        { content: "restore", trigger: ".o_statusbar_buttons button[name='action_restore']", run: "click" },
        { content: "Odoo's Won button", trigger: ".o_statusbar_buttons button[name='action_set_won_rainbowman']" },
        settled,
        countFrom("Odoo's Won"),
        { content: "won", trigger: ".o_statusbar_buttons button[name='action_set_won_rainbowman']", run: "click" },
        { content: "won: the button is gone", trigger: ".o_form_view:not(:has(button[name='action_set_won_rainbowman']:visible))" },
        settled,
        countFrom("end"),
    ],
});
