import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";

/**
 * Kanban of the Sales Processes grouped by step: dropping a card on another
 * step runs the transition that leads there (when it takes no values), or
 * opens its form; a step no transition reaches is refused by the server with
 * a message. The card never moves by itself: the view reloads what the
 * server decided.
 */
export class SalesProcessKanbanRenderer extends KanbanRenderer {
    setup() {
        super.setup();
        this.orm = useService("orm");
        this.action = useService("action");
    }

    async sortRecordDrop(dataRecordId, dataGroupId, params) {
        const list = this.props.list;
        const targetGroupId = params.parent?.dataset.id;
        if (!list.isGrouped || list.groupByField?.name !== "step_id" || !targetGroupId ||
                targetGroupId === dataGroupId) {
            return super.sortRecordDrop(...arguments);
        }
        params.parent.classList.remove("o_kanban_hover");
        const source = list.groups.find((group) => group.id === dataGroupId);
        const target = list.groups.find((group) => group.id === targetGroupId);
        const record = source?.list.records.find((r) => r.id === dataRecordId);
        if (!record || !target) {
            return;
        }
        this.toggleProcessing(dataRecordId, true);
        const reload = () => list.model.load();
        try {
            const result = await this.orm.call("crm.sales.process", "action_move_to_step", [
                [record.resId],
                target.value,
            ]);
            if (result && typeof result === "object") {
                await this.action.doAction(result, { onClose: reload });
            }
        } finally {
            this.toggleProcessing(dataRecordId, false);
            await reload();
        }
    }
}

registry.category("views").add("sales_process_kanban", {
    ...kanbanView,
    Renderer: SalesProcessKanbanRenderer,
});
