<?php

declare(strict_types=1);

namespace Ksef;

use FFI\CData;

/**
 * The QR codes on KSeF invoices: KOD I (the invoice link: seller NIP, issue date, SHA-256
 * of the exact XML) and KOD II (the offline certificate link, signed), as URL, PNG or SVG.
 *
 * ```php
 * $url = Ksef\Qr::invoiceUrl('test', $xml);
 * file_put_contents('kod1.png', Ksef\Qr::png($url, 'OFFLINE'));
 * ```
 */
final class Qr
{
    private function __construct()
    {
    }

    /**
     * KOD I of an invoice: the link to it in KSeF for environment `$env` (`test`, `demo`,
     * `prod`), from the exact XML bytes.
     *
     * @throws KsefException 1xx when the XML cannot be read, 403 for a malformed part
     */
    public static function invoiceUrl(string $env, string $xml): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_qr_invoice_url(
            $env, strlen($env), Ffi::bytes($xml), strlen($xml), $o));
    }

    /**
     * KOD II: the signed certificate link of an invoice issued offline.
     *
     * @param string $contextType `nip`, `internal-id`, `nip-vat-ue` or `peppol-id`
     * @param string $serial      the offline certificate's serial number (hex)
     * @param string $key         its private key (PEM or DER)
     */
    public static function certificateUrl(
        string $env,
        string $xml,
        string $contextType,
        string $contextValue,
        string $serial,
        string $key,
    ): string {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_qr_certificate_url(
            $env, strlen($env), Ffi::bytes($xml), strlen($xml),
            $contextType, strlen($contextType), $contextValue, strlen($contextValue),
            $serial, strlen($serial), Ffi::bytes($key), strlen($key), $o));
    }

    /**
     * A QR code of `$text` as PNG bytes, with `$label` under it (`OFFLINE`, the KSeF
     * number, `CERTYFIKAT`; empty: none).
     *
     * @param int $modulePx  pixels per module (1-100)
     * @param int $quietZone modules of white border (0-40)
     */
    public static function png(string $text, string $label = '', int $modulePx = 5, int $quietZone = 4): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_qr_png(
            $text, strlen($text), $label, strlen($label), $modulePx, $quietZone, $o));
    }

    /** As {@see png()}, as SVG text. */
    public static function svg(string $text, string $label = '', int $modulePx = 5, int $quietZone = 4): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_qr_svg(
            $text, strlen($text), $label, strlen($label), $modulePx, $quietZone, $o));
    }

    /**
     * The modules of a QR code of `$text` at error-correction level `$ecc` (`L`, `M`, `Q`,
     * `H`): rows of booleans (true = dark), without the quiet zone.
     *
     * @return list<list<bool>>
     */
    public static function matrix(string $text, string $ecc = 'M'): array
    {
        $ffi = Ffi::get();
        $out = $ffi->new('ksef_qr_matrix*');
        Ffi::check($ffi->ksef_qr_matrix_encode($text, strlen($text), ord($ecc[0] ?? 'M'), \FFI::addr($out)));
        try {
            $w = $ffi->ksef_qr_matrix_width($out);
            $rows = [];
            for ($y = 0; $y < $w; $y++) {
                $row = [];
                for ($x = 0; $x < $w; $x++) {
                    $row[] = $ffi->ksef_qr_matrix_is_dark($out, $x, $y);
                }
                $rows[] = $row;
            }
            return $rows;
        } finally {
            $ffi->ksef_qr_matrix_free($out);
        }
    }
}
