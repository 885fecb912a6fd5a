import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
  type SortingState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useRef, useState, type ReactNode } from 'react';

interface DataTableProps<T> {
  label: string;
  rows: T[];
  columns: ColumnDef<T, unknown>[];
  rowKey: (row: T) => string;
  onRowClick?: (row: T) => void;
  empty: ReactNode;
  /** Server-side pagination: more rows exist behind a cursor. */
  hasMore?: boolean;
  loadingMore?: boolean;
  onLoadMore?: () => void;
}

const ROW_HEIGHT = 36;

interface BodyRowProps<T> {
  row: Row<T>;
  /** Not read: a new columns array (new cell renderers) must re-render the row. */
  columns: ColumnDef<T, unknown>[];
  onRowClick?: (row: T) => void;
}

/**
 * One body row, memoised: scrolling re-renders the table on every frame, and only the rows that come into view
 * need rendering (a Row object is the same until the data, hence the row model, changes). Measured in
 * bench/console/console-render.ts (docs/console.md "Performance").
 */
const BodyRow = memo(function BodyRow<T>({ row, onRowClick }: BodyRowProps<T>) {
  return (
    <tr
      className={onRowClick ? 'clickable' : undefined}
      onClick={onRowClick ? () => onRowClick(row.original) : undefined}
    >
      {row.getVisibleCells().map((cell) => (
        <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
      ))}
    </tr>
  );
}) as <T>(props: BodyRowProps<T>) => ReactNode;

/**
 * A virtualised, sortable table: only the rows in view are in the DOM, so 10,000 rows stay smooth.
 * Cells render text through React (escaped); nothing here ever sets HTML.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useReactTable({
    data: props.rows,
    columns: props.columns,
    state: { sorting },
    onSortingChange: setSorting,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getRowId: props.rowKey,
  });
  const scroller = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    initialRect: { width: 1000, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items.length ? items[0]!.start : 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const width = props.columns.length;

  if (!props.rows.length) return <div className="state empty">{props.empty}</div>;
  return (
    <>
      <div
        className="table-scroll"
        ref={scroller}
        tabIndex={0}
        role="region"
        aria-label={`${props.label} table`}
      >
        <table className="grid" aria-rowcount={rows.length + 1}>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                    >
                      {header.column.getCanSort() ? (
                        <button
                          type="button"
                          className="sort"
                          onClick={header.column.getToggleSortingHandler()}
                        >
                          {flexRender(header.column.columnDef.header, header.getContext())}
                          <span aria-hidden="true">
                            {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                          </span>
                        </button>
                      ) : (
                        flexRender(header.column.columnDef.header, header.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden="true">
                <td colSpan={width} style={{ height: padTop, padding: 0 }} />
              </tr>
            )}
            {items.map((item) => {
              const row = rows[item.index]!;
              return <BodyRow key={row.id} row={row} columns={props.columns} onRowClick={props.onRowClick} />;
            })}
            {padBottom > 0 && (
              <tr aria-hidden="true">
                <td colSpan={width} style={{ height: padBottom, padding: 0 }} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <p className="table-foot muted">
        {rows.length} row{rows.length === 1 ? '' : 's'} loaded
        {props.hasMore && (
          <>
            {' · '}
            <button type="button" className="link" disabled={props.loadingMore} onClick={props.onLoadMore}>
              {props.loadingMore ? 'Loading…' : 'Load more'}
            </button>
          </>
        )}
      </p>
    </>
  );
}
