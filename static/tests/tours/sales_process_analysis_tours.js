import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_sales_process_analysis_funnel", {
    steps: () => [
        {
            content: "the analysis opens on its pivot, rates as measures",
            trigger: ".o_pivot th:contains('Win Rate (%)')",
        },
        {
            content: "the qualification rate of the salesman's own processes: 2 qualified, 1 disqualified",
            trigger: ".o_pivot tr:has(th:contains('Total')) td:contains('66.67')",
        },
        { content: "switch to the funnel", trigger: ".o_switch_view.o_sales_funnel", run: "click" },
        {
            content: "three processes entered New Lead",
            trigger: ".o_sales_funnel_row[data-step='New Lead'] .o_sales_funnel_reach:contains('3')",
        },
        {
            content: "two reached New Opportunity",
            trigger: ".o_sales_funnel_row[data-step='New Opportunity'] .o_sales_funnel_reach:contains('2')",
        },
        {
            content: "the disqualified one is the drop-off of New Lead, in red",
            trigger: ".o_sales_funnel_row[data-step='New Lead'] .o_sales_funnel_dropped:contains('1')",
        },
        {
            content: "the conversion from New Lead to New Opportunity",
            trigger: ".o_sales_funnel_conversion:contains('66.7% of New Lead reached New Opportunity')",
        },
        {
            content: "open the processes of the Won Opportunity bar",
            trigger: ".o_sales_funnel_row[data-step='Won Opportunity'] .o_sales_funnel_bar",
            run: "click",
        },
        {
            content: "the processes that reached Won Opportunity are listed",
            trigger: ".o_breadcrumb:contains('Reached Won Opportunity')",
        },
        { content: "the won deal is there", trigger: ".o_list_view .o_data_row:contains('SP Tour Won Deal')" },
        {
            content: "and only it",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('SP Tour Disqualified'))):not(:has(.o_data_row:contains('SP Tour Open Deal')))",
        },
        {
            content: "back to the funnel through the breadcrumb",
            trigger: ".o_breadcrumb a:contains('Sales Process Analysis')",
            run: "click",
        },
        { content: "the funnel is there again", trigger: ".o_sales_funnel_row[data-step='Won Opportunity']" },
    ],
});
