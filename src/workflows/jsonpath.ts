import { STATES_ERRORS, StatesError, runtimeError } from './errors.ts';
import { isJsonObject, type Json, type JsonObject } from './types.ts';
import { evaluateIntrinsic, isIntrinsicCall } from './intrinsics.ts';
import { parseDefinite, selectPath, type PathScope } from './path.ts';

/** JSONPath data flow: Payload Templates and ResultPath. */

/** Applies a Payload Template: `"key.$"` fields are replaced by their path or intrinsic's value. */
export function payloadTemplate(template: Json, scope: PathScope, field: string): Json {
  if (Array.isArray(template)) return template.map((item) => payloadTemplate(item, scope, field));
  if (!isJsonObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      const name = key.slice(0, -2);
      if (typeof value !== 'string') {
        throw runtimeError(`the value of '${key}' in ${field} must be a path or an intrinsic function`);
      }
      out[name] = isIntrinsicCall(value)
        ? evaluateIntrinsic(value, scope)
        : selectPath(value, scope, STATES_ERRORS.ParameterPathFailure, key);
    } else {
      out[key] = payloadTemplate(value, scope, field);
    }
  }
  return out;
}

/** Places `result` into `input` at a Reference Path (ResultPath); `null` discards it. */
export function applyResultPath(input: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const segments = resultPath.startsWith('$') ? parseDefinite(resultPath.slice(1)) : null;
  if (segments === null || resultPath.startsWith('$$')) {
    throw new StatesError(
      STATES_ERRORS.ResultPathMatchFailure,
      `ResultPath '${resultPath}' is not a Reference Path`,
    );
  }
  const copy: Json = isJsonObject(input) ? { ...input } : input;
  if (!isJsonObject(copy)) {
    throw new StatesError(
      STATES_ERRORS.ResultPathMatchFailure,
      `Unable to apply ResultPath '${resultPath}': the state input is not a JSON object`,
    );
  }
  let node: JsonObject = copy;
  segments.forEach((seg, i) => {
    const key = String(seg);
    if (i === segments.length - 1) {
      node[key] = result;
      return;
    }
    const child = node[key];
    if (child === undefined) node[key] = {};
    else if (isJsonObject(child)) node[key] = { ...child };
    else {
      throw new StatesError(
        STATES_ERRORS.ResultPathMatchFailure,
        `Unable to apply ResultPath '${resultPath}': '${key}' is not a JSON object`,
      );
    }
    node = node[key] as JsonObject;
  });
  return copy;
}
