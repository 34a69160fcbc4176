import { registry } from "@web/core/registry";

/* An administrator gives the Developed Opportunity step an activity plan. */
registry.category("web_tour.tours").add("crm_sales_process_set_plan", {
    steps: () => [
        { content: "the default workflow", trigger: ".o_field_widget[name=name] input:value('B2B Sales Process')" },
        { content: "the steps", trigger: ".o_notebook a:contains('Steps')", run: "click" },
        {
            content: "open Developed Opportunity",
            trigger: ".o_field_widget[name=step_ids] .o_data_row:contains('developed_opportunity') td.o_data_cell",
            run: "click",
        },
        {
            content: "no plan yet: entering the step schedules nothing",
            trigger: ".modal .o_field_widget[name=activity_plan_id] input[placeholder*='schedules nothing']",
        },
        { content: "search the plan", trigger: ".modal .o_field_widget[name=activity_plan_id] input", run: "edit SP Tour" },
        { content: "pick it", trigger: ".o-autocomplete--dropdown-item:contains('SP Tour Plan')", run: "click" },
        {
            content: "the step offers to launch it on the processes already there",
            trigger: ".modal button[name=action_launch_activity_plan]:contains('Launch on the processes here')",
        },
        { content: "save & close the step", trigger: ".modal .modal-footer .o_form_button_save", run: "click" },
        { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
        {
            content: "the step list shows the plan",
            trigger: ".o_field_widget[name=step_ids] .o_data_row:contains('developed_opportunity'):contains('SP Tour Plan')",
        },
        { content: "save the workflow", trigger: ".o_form_button_save", run: "click" },
        { content: "saved", trigger: ".o_form_saved" },
        { content: "the diagram", trigger: ".o_notebook a:contains('Diagram')", run: "click" },
        {
            content: "shows the plan on its step",
            trigger: ".o_field_widget[name=diagram] svg .o_sales_process_plan_badge:contains('3 activities')",
        },
    ],
});

/* A salesman develops an opportunity and finds the plan's activities on it. */
registry.category("web_tour.tours").add("crm_sales_process_develop_with_plan", {
    steps: () => [
        {
            content: "develop the opportunity",
            trigger: ".o_statusbar_buttons button[name='action_sales_process_transition']:contains('Develop')",
            run: "click",
        },
        { content: "budget", trigger: ".modal .o_field_widget[name=budget_amount] input", run: "edit 12000" },
        { content: "confirm", trigger: ".modal button[name='action_confirm']", run: "click" },
        { content: "the form is closed", trigger: "body:not(:has(.modal))" },
        {
            content: "the opportunity is developed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Developed Opportunity')",
        },
        {
            content: "the guidance panel lists the plan's activities",
            trigger: ".alert[name=sales_process_guidance]:contains('Open activities'):contains('SP Demo call'):contains('SP Budget check'):contains('SP Proposal')",
        },
        {
            content: "the chatter has them too",
            trigger: ".o-mail-Chatter:contains('SP Demo call')",
        },
        {
            content: "and says the plan was launched",
            trigger: ".o-mail-Message:contains('the activity plan \"SP Tour Plan\" was launched')",
        },
    ],
});
