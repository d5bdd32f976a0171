using System.Text.Json;
using System.Text.Json.Nodes;

namespace Molecule.Api.Http;

/// <summary>
/// Typed reads of body fields. Each returns false with a message naming the field when the value has the wrong
/// type or range; a missing or null field reads as "absent".
/// </summary>
public static class Fields
{
    public static bool TryString(JsonObject body, string field, int minLength, int maxLength, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
        {
            return true;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            error = $"{field} must be a string";
            return false;
        }

        string text;
        try
        {
            text = node.GetValue<string>();
        }
        catch (InvalidOperationException)
        {
            error = $"{field} is not a valid string";
            return false;
        }

        if (!IsStorable(text))
        {
            error = $"{field} contains a NUL character or an unpaired surrogate";
            return false;
        }

        var length = CountRunes(text);
        if (length < minLength || length > maxLength)
        {
            error = $"{field} must be {minLength} to {maxLength} characters";
            return false;
        }

        value = text;
        return true;
    }

    public static bool TryInt(JsonObject body, string field, int min, int max, out int? value, out string? error)
    {
        value = null;
        error = null;
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
        {
            return true;
        }

        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<int>(out var number) || number < min || number > max)
        {
            error = $"{field} must be an integer from {min} to {max}";
            return false;
        }

        value = number;
        return true;
    }

    public static bool TryDouble(JsonObject body, string field, out double? value, out string? error)
    {
        value = null;
        error = null;
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
        {
            return true;
        }

        if (node.GetValueKind() != JsonValueKind.Number || !node.AsValue().TryGetValue<double>(out var number) || !double.IsFinite(number)
            || Math.Abs(number) > 1e9)
        {
            error = $"{field} must be a finite number within ±1e9";
            return false;
        }

        value = number;
        return true;
    }

    public static bool TryBool(JsonObject body, string field, out bool? value, out string? error)
    {
        value = null;
        error = null;
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
        {
            return true;
        }

        if (node.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = $"{field} must be true or false";
            return false;
        }

        value = node.GetValue<bool>();
        return true;
    }

    public static bool TryUuid(JsonObject body, string field, out Guid? value, out string? error)
    {
        value = null;
        if (!TryString(body, field, 1, 64, out var text, out error))
        {
            error = $"{field} must be a UUID string";
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!Guid.TryParseExact(text, "D", out var id))
        {
            error = $"{field} must be a UUID";
            return false;
        }

        value = id;
        return true;
    }

    public static bool TryObject(JsonObject body, string field, out JsonObject? value, out string? error)
    {
        value = null;
        error = null;
        if (!body.TryGetPropertyValue(field, out var node) || node is null)
        {
            return true;
        }

        if (node is not JsonObject obj)
        {
            error = $"{field} must be an object";
            return false;
        }

        value = obj;
        return true;
    }

    /// <summary>Postgres text cannot hold NUL, and an unpaired surrogate cannot be encoded: both are refused up front.</summary>
    public static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int CountRunes(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }
}
