import type { IncomingHttpHeaders } from 'node:http';
import {
  ERROR_CODES,
  type JsonRpcNotification,
  type JsonRpcRequest,
} from '../../../../libs/runtime/src/index.js';

/** The first stateless revision: per-request `_meta` envelope, `Mcp-Method` / `Mcp-Name` headers, no sessions. */
export const MODERN_REVISION = '2026-07-28';
export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';

/** Which body field `Mcp-Name` mirrors, per method (SEP-2243 and the tasks binding). */
const NAME_SOURCE: Record<string, string> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

export interface HeaderCheck {
  /** True for a 2026-07-28 (stateless) request. */
  modern: boolean;
  refusal?: { status: 400; code: number; reason: string };
}

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return typeof value === 'string' ? value.trim() : undefined;
};

/**
 * The header/body cross-check. A relay that routed or authorised on headers while the upstream executes the
 * body could be told "echo" while running "printEnv"; the gateway decides on the body and refuses any request
 * whose standard headers disagree with it, in every revision. For 2026-07-28 requests the headers are also
 * required (`MCP-Protocol-Version`, `Mcp-Method`, and `Mcp-Name` where the method has a name).
 */
export function checkStandardHeaders(
  headers: IncomingHttpHeaders,
  message: JsonRpcRequest | JsonRpcNotification,
  isRequest: boolean,
): HeaderCheck {
  const versionHeader = header(headers, 'mcp-protocol-version');
  const methodHeader = header(headers, 'mcp-method');
  const nameHeader = header(headers, 'mcp-name');
  const meta = message.params?._meta;
  const claim =
    meta && typeof meta === 'object'
      ? (meta as Record<string, unknown>)[PROTOCOL_VERSION_META_KEY]
      : undefined;
  const claimed = typeof claim === 'string' ? claim : undefined;
  const modern = (claimed ?? versionHeader ?? '') >= MODERN_REVISION;
  const mismatch = (reason: string): HeaderCheck => ({
    modern,
    refusal: {
      status: 400,
      code: ERROR_CODES.header_mismatch,
      reason: `the request headers and body disagree: ${reason}`,
    },
  });

  if (claim !== undefined && typeof claim !== 'string') {
    return {
      modern,
      refusal: {
        status: 400,
        code: ERROR_CODES.invalid_params,
        reason: `${PROTOCOL_VERSION_META_KEY} must be a string`,
      },
    };
  }
  if (message.method === 'initialize' && versionHeader && versionHeader >= MODERN_REVISION && !claimed) {
    return mismatch(`an initialize request was sent with MCP-Protocol-Version ${versionHeader}`);
  }
  if (versionHeader && claimed && versionHeader !== claimed) {
    return mismatch(
      `the body names protocol version ${claimed}, the MCP-Protocol-Version header ${versionHeader}`,
    );
  }
  if (methodHeader !== undefined && methodHeader !== message.method) {
    return mismatch(`the body names method ${message.method}, the Mcp-Method header ${methodHeader}`);
  }
  if (modern && isRequest) {
    if (!claimed) {
      return {
        modern,
        refusal: {
          status: 400,
          code: ERROR_CODES.invalid_params,
          reason: `a ${versionHeader} request needs _meta["${PROTOCOL_VERSION_META_KEY}"]`,
        },
      };
    }
    if (!versionHeader) return mismatch('the required MCP-Protocol-Version header is absent');
    if (methodHeader === undefined) return mismatch('the required Mcp-Method header is absent');
  }
  const field = NAME_SOURCE[message.method];
  if (field) {
    const raw = message.params?.[field];
    const bodyValue = typeof raw === 'string' ? raw : undefined;
    if (nameHeader === undefined) {
      if (modern && isRequest && bodyValue !== undefined)
        return mismatch(`the body has params.${field} but the required Mcp-Name header is absent`);
    } else {
      const decoded = decodeParamValue(nameHeader);
      if (decoded === undefined) return mismatch('the Mcp-Name header carries an invalid base64 value');
      if (decoded !== bodyValue)
        return mismatch(
          `the body has params.${field}="${clip(bodyValue)}", the Mcp-Name header "${clip(decoded)}"`,
        );
    }
  } else if (nameHeader !== undefined && modern) {
    return mismatch(`method ${message.method} has no name, yet Mcp-Name is set`);
  }
  return { modern };
}

/** `=?base64?…?=` values (non-ASCII names) decode; plain values are taken as they are. */
function decodeParamValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

function clip(value: string | undefined): string {
  if (value === undefined) return '(none)';
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
