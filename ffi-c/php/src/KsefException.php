<?php

declare(strict_types=1);

namespace Ksef;

/**
 * A failure reported by the ksef library. `getCode()` is the stable numeric KSeF error code
 * (the same numbers as the C ABI's `KSEF_ERR_*`, Python's `KsefError.code` and Node's
 * `err.code`, never renumbered); `getName()` its short name (`invalid_value`); `getPath()`
 * where it happened (`Faktura/Fa/FaWiersz[3]/P_8B`, a JSON path, an argument name, an API
 * call); `getDetail()` structured detail (e.g. the validation report) or null.
 *
 * Subclasses by group: {@see InvalidInputException} (1xx, 2xx, 400, 62x, 900-901),
 * {@see ValidationException} (3xx), {@see QrException} (401-404), {@see CryptoException}
 * (42x-45x), {@see NetworkException} (503, 504, 604, 617), {@see ApiException} (other 5xx),
 * {@see PairedException} (60x-61x, 64x), {@see OfflineException} (7xx).
 */
class KsefException extends \RuntimeException
{
    /**
     * @param array<mixed>|null $detail
     */
    final public function __construct(
        string $message,
        int $code,
        private readonly string $name = '',
        private readonly string $path = '',
        private readonly ?array $detail = null,
        private readonly ?int $needed = null,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, $code, $previous);
    }

    /**
     * The exception for the library's last-error JSON
     * (`{"code":105,"name":"invalid_value","path":"...","message":"...","needed":N?,"detail":{}?}`).
     *
     * @param array<mixed> $error
     */
    public static function fromError(array $error): self
    {
        $code = (int) ($error['code'] ?? 0);
        $name = (string) ($error['name'] ?? '');
        $path = (string) ($error['path'] ?? '');
        $message = (string) ($error['message'] ?? $name);
        $detail = $error['detail'] ?? null;
        if ($detail !== null && !is_array($detail)) {
            $detail = ['value' => $detail];
        }
        $needed = isset($error['needed']) ? (int) $error['needed'] : null;
        $class = self::classFor($code);
        $text = $path !== '' ? "$path: $message" : $message;
        return new $class("[$code $name] $text", $code, $name, $path, $detail, $needed);
    }

    /**
     * The exception class for a code.
     *
     * @return class-string<KsefException>
     */
    public static function classFor(int $code): string
    {
        return match (true) {
            $code >= 300 && $code < 400 => ValidationException::class,
            $code >= 100 && $code < 300, $code === 400, $code >= 620 && $code < 640,
            $code === 900, $code === 901 => InvalidInputException::class,
            $code >= 401 && $code < 420 => QrException::class,
            $code >= 420 && $code < 500 => CryptoException::class,
            in_array($code, [503, 504, 604, 617], true) => NetworkException::class,
            $code >= 500 && $code < 600 => ApiException::class,
            $code >= 600 && $code < 700 => PairedException::class,
            $code >= 700 && $code < 800 => OfflineException::class,
            default => self::class,
        };
    }

    /** The stable short name of the code (`invalid_value`). */
    public function getName(): string
    {
        return $this->name;
    }

    /** Where the error happened; empty when there is no place to point at. */
    public function getPath(): string
    {
        return $this->path;
    }

    /**
     * Structured detail (e.g. the validation report of code 300), or null.
     *
     * @return array<mixed>|null
     */
    public function getDetail(): ?array
    {
        return $this->detail;
    }

    /** For code 201 (buffer too small): the number of bytes needed. */
    public function getNeeded(): ?int
    {
        return $this->needed;
    }
}
