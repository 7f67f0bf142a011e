<?php

declare(strict_types=1);

namespace Ksef;

use FFI\CData;

/**
 * The paired-mode rule engine alone, without network: what an order would become.
 */
final class Rules
{
    private function __construct()
    {
    }

    /**
     * Evaluates an order under the rules for `$trigger`, with fresh numbering counters.
     *
     * @param array<string, mixed>|string      $rules
     * @param array<string, mixed>|string      $order
     * @param array<mixed>|string|null         $rates NBP rates: one `{"currency","table","date","rate"}` or a list
     * @param string|null                      $now   RFC 3339 date-time dating the documents (null: now)
     * @return array<mixed> `{"decision": "skip"|"need_rate"|"issue", ...}` (with `xml` and
     *                      `fakturownia` when issuing)
     * @throws InvalidInputException 620-627 with the JSON path
     */
    public static function evaluate(
        array|string $rules,
        array|string $order,
        string $trigger = 'status',
        array|string|null $rates = null,
        ?string $now = null,
    ): array {
        $r = Ffi::json($rules);
        $o = Ffi::json($order);
        $rt = $rates === null ? '' : Ffi::json($rates);
        $n = $now ?? '';
        return Ffi::callJson(fn (CData $out) => Ffi::get()->ksef_rules_evaluate(
            $r, strlen($r), $o, strlen($o), $trigger, strlen($trigger), $rt, strlen($rt), $n, strlen($n), $out));
    }
}
