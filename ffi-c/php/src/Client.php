<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * A KSeF client (one context, one set of credentials) over the library's built-in HTTPS
 * transport. Every call blocks until KSeF answered and returns the result as an array
 * (the JSON the C ABI documents for `ksef_client_*`).
 *
 * ```php
 * $client = new Ksef\Client([
 *     'environment' => 'test',            // or 'base_url' => 'http://127.0.0.1:8080/v2'
 *     'nip' => '5265877635',
 *     'ksef_token' => getenv('KSEF_TOKEN'),
 * ]);
 * $result = $client->sendOnline([$xml]);
 * echo $result['invoices'][0]['ksef_number'];
 * ```
 *
 * Settings keys: `environment` or `base_url`; `nip` or `context`; `ksef_token` or
 * `certificate_pem` + `private_key_pem`; optional `poll_interval_ms`, `max_wait_ms`,
 * `timeout_ms`, `no_proxy`. The token and key never appear in errors.
 */
final class Client extends Handle
{
    protected const FREE = 'ksef_client_free';

    /**
     * @param array<string, mixed>|string $settings the settings as an array or JSON text
     * @throws KsefException e.g. code 105 naming the key, 106 for bad JSON
     */
    public function __construct(array|string $settings)
    {
        $ffi = Ffi::get();
        $json = Ffi::json($settings);
        $out = $ffi->new('ksef_client*');
        Ffi::check($ffi->ksef_client_new($json, strlen($json), PhpFfi::addr($out)));
        $this->adopt($out);
    }

    /**
     * For {@see Paired}: the `ksef_client **` slot an engine takes the client from (set to
     * NULL when it does; this object is then closed).
     *
     * @internal
     */
    public function slot(): CData
    {
        $this->ptr();
        return PhpFfi::addr($this->handle);
    }

    /**
     * For {@see Offline::send()}: the live `ksef_client *`.
     *
     * @internal
     */
    public function raw(): CData
    {
        return $this->ptr();
    }

    /**
     * Authenticates now (otherwise the first call that needs a token does it).
     *
     * @return array<mixed> `{"type":"authenticated","reference":...}`
     */
    public function authenticate(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_authenticate($this->ptr(), $o));
    }

    /**
     * Sends invoices in one online session, waits for KSeF to process them and downloads
     * their UPOs. An invoice KSeF refused is not an exception: its entry has
     * `accepted => false` and `error`.
     *
     * @param list<string|Invoice> $invoices the XML of each invoice (sent exactly as given)
     * @param string               $form     `FA(3)` or `FA(2)`
     * @param bool                 $offline  the invoices were issued in an offline mode
     * @return array<mixed> `{"type":"online","session","status","accepted","invoices":[{"index",
     *                      "accepted","reference","ksef_number","status","error","upo"}],"session_upo"}`
     */
    public function sendOnline(array $invoices, string $form = 'FA(3)', bool $offline = false): array
    {
        return $this->send('ksef_client_send_online', $invoices, $form, $offline);
    }

    /**
     * As {@see sendOnline()}, in one batch session (ZIP, encrypted, uploaded); invoice UPOs
     * are not downloaded (see {@see downloadUpo()}).
     *
     * @param list<string|Invoice> $invoices
     * @return array<mixed>
     */
    public function sendBatch(array $invoices, string $form = 'FA(3)', bool $offline = false): array
    {
        return $this->send('ksef_client_send_batch', $invoices, $form, $offline);
    }

    /**
     * @param list<string|Invoice> $invoices
     * @return array<mixed>
     */
    private function send(string $fn, array $invoices, string $form, bool $offline): array
    {
        $ffi = Ffi::get();
        $n = count($invoices);
        if ($n === 0) {
            throw KsefException::fromError([
                'code' => 901, 'name' => 'invalid_argument', 'path' => 'invoices',
                'message' => 'no invoices to send',
            ]);
        }
        $ptrs = $ffi->new("uint8_t*[$n]");
        $lens = $ffi->new("size_t[$n]");
        $keep = [];
        foreach (array_values($invoices) as $i => $inv) {
            $xml = $inv instanceof Invoice ? $inv->toXml() : $inv;
            $buf = Ffi::bytes($xml);
            if ($buf !== null) {
                $keep[] = $buf;
                $ptrs[$i] = PhpFfi::addr($buf[0]);
            }
            $lens[$i] = strlen($xml);
        }
        $r = Ffi::callJson(fn (CData $o) => $ffi->$fn($this->ptr(), $form, strlen($form), $ptrs, $lens, $n, $offline, $o));
        unset($keep);
        return $r;
    }

    /**
     * A session's status.
     *
     * @return array<mixed>
     */
    public function sessionStatus(string $session): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_session_status(
            $this->ptr(), $session, strlen($session), $o));
    }

    /**
     * One invoice's status in a session.
     *
     * @return array<mixed>
     */
    public function invoiceStatus(string $session, string $invoice): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_invoice_status(
            $this->ptr(), $session, strlen($session), $invoice, strlen($invoice), $o));
    }

    /**
     * The invoices of a session (only the failed ones with `$failedOnly`).
     *
     * @return array<mixed>
     */
    public function sessionInvoices(string $session, bool $failedOnly = false): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_session_invoices(
            $this->ptr(), $session, strlen($session), $failedOnly, $o));
    }

    /**
     * Downloads a UPO.
     *
     * @param array<string, mixed>|string $upo the UPO reference (array or JSON)
     * @return array<mixed>
     */
    public function downloadUpo(array|string $upo): array
    {
        $json = Ffi::json($upo);
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_download_upo(
            $this->ptr(), $json, strlen($json), $o));
    }

    /**
     * Queries invoice metadata (the inbox).
     *
     * @param array<string, mixed>|string $query
     * @return array<mixed>
     */
    public function inboxQuery(array|string $query): array
    {
        $json = Ffi::json($query);
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_inbox_query(
            $this->ptr(), $json, strlen($json), $o));
    }

    /**
     * Downloads one invoice by its KSeF number.
     *
     * @return array<mixed>
     */
    public function inboxDownload(string $ksefNumber): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_inbox_download(
            $this->ptr(), $ksefNumber, strlen($ksefNumber), $o));
    }

    /**
     * Exports invoices matching a query (an encrypted package, decrypted).
     *
     * @param array<string, mixed>|string $query
     * @return array<mixed>
     */
    public function inboxExport(array|string $query): array
    {
        $json = Ffi::json($query);
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_inbox_export(
            $this->ptr(), $json, strlen($json), $o));
    }

    /**
     * Generates a KSeF token (`{"permissions":[...],"description":...}`).
     *
     * @param array<string, mixed>|string $request
     * @return array<mixed>
     */
    public function generateToken(array|string $request): array
    {
        $json = Ffi::json($request);
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_generate_token(
            $this->ptr(), $json, strlen($json), $o));
    }

    /**
     * Checks that KSeF answers and the credentials work.
     *
     * @return array<mixed>
     */
    public function testConnection(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_test_connection($this->ptr(), $o));
    }

    /**
     * Ends the KSeF session (revokes the tokens).
     *
     * @return array<mixed>
     */
    public function logout(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_client_logout($this->ptr(), $o));
    }
}
