import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { CogMenu } from "@web/search/cog_menu/cog_menu";
import { Layout } from "@web/search/layout";
import { SearchBar } from "@web/search/search_bar/search_bar";
import { useSearchBarToggler } from "@web/search/search_bar/search_bar_toggler";
import { standardViewProps } from "@web/views/standard_view_props";

/**
 * The funnel of the Sales Process Analysis: for the processes selected by
 * the search (those with at least one transition in it), how many entered
 * each step on the way to a win, how many of them went on to a later step,
 * were dropped (closed lost or disqualified there) or are still there.
 * A bar opens the processes that reached its step; its red part, those
 * dropped there. Odoo's graph view has no funnel: this is a view type of its
 * own ("sales_funnel"), so that it shares the search of the other views.
 */
export class SalesFunnelController extends Component {
    static template = "crm_sales_process.SalesFunnelView";
    static components = { Layout, SearchBar, CogMenu };
    static props = { ...standardViewProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ funnels: [], loaded: false });
        this.searchBarToggler = useSearchBarToggler();
        onWillStart(() => this.load(this.props));
        onWillUpdateProps((nextProps) => this.load(nextProps));
    }

    async load(props) {
        const funnels = await this.orm.call(props.resModel, "get_funnel_data", [props.domain], {
            context: props.context,
        });
        for (const funnel of funnels) {
            const widest = Math.max(1, ...funnel.bars.map((bar) => bar.reach));
            for (const bar of funnel.bars) {
                bar.width = Math.max(6, (100 * bar.reach) / widest);
                const part = (count) => (bar.reach ? (100 * count) / bar.reach : 0);
                bar.segments = [
                    { kind: "went_on", count: bar.outcome === "won" ? bar.reach : bar.went_on },
                    { kind: "in_progress", count: bar.in_progress },
                    { kind: "dropped", count: bar.dropped },
                ]
                    .filter((segment) => segment.count)
                    .map((segment) => ({ ...segment, width: part(segment.count) }));
                bar.droppedRate = bar.reach ? Math.round((1000 * bar.dropped) / bar.reach) / 10 : 0;
            }
        }
        this.state.funnels = funnels;
        this.state.loaded = true;
    }

    segmentClass(bar, segment) {
        if (segment.kind === "dropped") {
            return "bg-danger o_sales_funnel_dropped";
        }
        if (segment.kind === "in_progress") {
            return "o_sales_funnel_in_progress";
        }
        return bar.outcome === "won" ? "bg-success" : "bg-primary";
    }

    // whole sentences: a translation orders the words as its language needs
    reachText(bar) {
        return _t("%(count)s reached", { count: bar.reach });
    }

    conversionText(bar) {
        return _t("%(rate)s% of %(step)s reached %(next)s", {
            rate: bar.conversion,
            step: bar.name,
            next: bar.next_name,
        });
    }

    barTitle(bar) {
        return _t("Open the %(count)s processes that reached %(step)s", { count: bar.reach, step: bar.name });
    }

    segmentTitle(bar, segment) {
        if (segment.kind === "dropped") {
            return _t("%(count)s dropped at %(step)s (closed lost or disqualified): click to see them", {
                count: segment.count,
                step: bar.name,
            });
        }
        if (segment.kind === "in_progress") {
            return _t("%(count)s still in progress at %(step)s", { count: segment.count, step: bar.name });
        }
        return bar.outcome === "won"
            ? _t("%(count)s won", { count: segment.count })
            : _t("%(count)s went on past %(step)s", { count: segment.count, step: bar.name });
    }

    onSegmentClick(ev, bar, segment) {
        if (segment.kind === "dropped") {
            ev.stopPropagation();
            this.openBar(bar, "dropped");
        }
    }

    async openBar(bar, kind) {
        const action = await this.orm.call(
            this.props.resModel,
            "action_open_funnel_processes",
            [this.props.domain, bar.step_id, kind],
            { context: this.props.context }
        );
        await this.action.doAction(action);
    }
}

registry.category("views").add("sales_funnel", {
    type: "sales_funnel",
    Controller: SalesFunnelController,
    searchMenuTypes: ["filter", "favorite"],
});
