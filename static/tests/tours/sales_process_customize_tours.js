import { registry } from "@web/core/registry";

function pick(field, search, label, scope = ".modal") {
    return [
        { content: `search ${label}`, trigger: `${scope} .o_field_widget[name=${field}] input`, run: `edit ${search}` },
        {
            content: `pick ${label}`,
            trigger: `.o-autocomplete--dropdown-item:contains('${label}')`,
            run: "click",
        },
    ];
}

const saveDialog = [
    { content: "save & close the line", trigger: ".modal .modal-footer .o_form_button_save", run: "click" },
    { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
];

/* An administrator clones the default workflow, adds a Negotiation step and
   the transition that reaches it, and gives the clone to a sales channel. */
registry.category("web_tour.tours").add("crm_sales_process_customize", {
    steps: () => [
        { content: "the default workflow", trigger: ".o_field_widget[name=name] input:value('B2B Sales Process')" },
        { content: "open the actions", trigger: ".o_form_view .o_cp_action_menus i.fa-cog", run: "click" },
        { content: "duplicate", trigger: ".o-dropdown--menu .o_menu_item:contains('Duplicate')", run: "click" },
        { content: "the copy is open", trigger: ".o_field_widget[name=name] input:value('B2B Sales Process (copy)')" },
        { content: "rename it", trigger: ".o_field_widget[name=name] input", run: "edit B2B with Negotiation" },
        { content: "the diagram shows the workflow", trigger: ".o_field_widget[name=diagram] svg text:contains('Developed Opportunity')" },
        { content: "the steps", trigger: ".o_notebook a:contains('Steps')", run: "click" },
        { content: "its steps were copied", trigger: ".o_field_widget[name=step_ids] .o_data_row:contains('developed_opportunity')" },
        { content: "add a step", trigger: ".o_field_widget[name=step_ids] .o_field_x2many_list_row_add a", run: "click" },
        { content: "name", trigger: ".modal .o_field_widget[name=name] input", run: "edit Negotiation" },
        { content: "code", trigger: ".modal .o_field_widget[name=code] input", run: "edit negotiation" },
        { content: "about opportunities", trigger: ".modal .o_field_widget[name=record_type] input[data-value=opportunity]", run: "click" },
        { content: "order", trigger: ".modal .o_field_widget[name=sequence] input", run: "edit 45" },
        ...saveDialog,
        { content: "save the workflow", trigger: ".o_form_button_save", run: "click" },
        {
            content: "the form says what to fix: nothing reaches the new step yet",
            trigger: ".alert-warning:contains('Negotiation'):contains('cannot be reached')",
        },
        { content: "the transitions", trigger: ".o_notebook a:contains('Transitions')", run: "click" },
        { content: "add a transition", trigger: ".o_field_widget[name=transition_ids] .o_field_x2many_list_row_add a", run: "click" },
        { content: "name", trigger: ".modal .o_field_widget[name=name] input", run: "edit Negotiate" },
        { content: "code", trigger: ".modal .o_field_widget[name=code] input", run: "edit negotiate" },
        { content: "choose its effect", trigger: ".modal .o_field_widget[name=effect] .o_select_menu_toggler", run: "click" },
        { content: "no built-in effect", trigger: ".o_select_menu_item:contains('change step only')", run: "click" },
        ...pick("from_step_ids", "Developed", "Developed Opportunity"),
        ...pick("to_step_id", "Negotiation", "Negotiation"),
        { content: "a forward move", trigger: ".modal .o_field_widget[name=button_style] input[data-value=primary]", run: "click" },
        { content: "order", trigger: ".modal .o_field_widget[name=sequence] input", run: "edit 55" },
        ...saveDialog,
        { content: "save the workflow", trigger: ".o_form_button_save", run: "click" },
        { content: "complete now", trigger: ".o_form_saved:not(:has(.alert-warning:visible))" },
        { content: "the new transition is listed", trigger: ".o_field_widget[name=transition_ids] .o_data_row:contains('negotiate')" },
        { content: "the diagram", trigger: ".o_notebook a:contains('Diagram')", run: "click" },
        { content: "shows the new step and its arrow", trigger: ".o_field_widget[name=diagram] svg:contains('Negotiation'):contains('Negotiate')" },
    ],
});

registry.category("web_tour.tours").add("crm_sales_process_assign_workflow", {
    steps: () => [
        { content: "the channel's Sales Process section", trigger: ".o_group:contains('Sales Process') .o_field_widget[name=channel_type]" },
        ...pick("sales_process_workflow_id", "Negotiation", "B2B with Negotiation", ".o_form_view"),
        { content: "save the channel", trigger: ".o_form_button_save", run: "click" },
        { content: "saved", trigger: ".o_form_saved" },
    ],
});

/* The salesman then sees the new button on an opportunity of that channel and uses it. */
registry.category("web_tour.tours").add("crm_sales_process_negotiate", {
    steps: () => [
        {
            content: "the developed opportunity offers the new transition",
            trigger: ".o_statusbar_buttons button[name='action_sales_process_transition']:contains('Negotiate')",
        },
        {
            content: "the statusbar knows the new step",
            trigger: ".o_statusbar_status:contains('Negotiation'), .o_statusbar_status .dropdown-toggle",
        },
        {
            content: "negotiate",
            trigger: ".o_statusbar_buttons button[name='action_sales_process_transition']:contains('Negotiate')",
            run: "click",
        },
        {
            content: "the opportunity is in Negotiation",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Negotiation')",
        },
        {
            content: "Negotiate is no longer offered",
            trigger: ".o_statusbar_buttons:not(:has(button:contains('Negotiate')))",
        },
    ],
});
