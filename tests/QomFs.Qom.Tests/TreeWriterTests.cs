using QomFs.Qmp;
using QomFs.Testing;

namespace QomFs.Qom.Tests;

/// <summary>qom-tree's layout, over qom-list-get (scripted, and on QEMU 11) and over qom-list + qom-get (on QEMU 7.2).</summary>
public class TreeWriterTests
{
    [Test]
    public async Task UsesOneQomListGetPerObjectWhereQemuHasIt()
    {
        var commands = new List<string>();
        using var server = ScriptedServer.Qemu(r =>
        {
            lock (commands) commands.Add(r.Execute + " " + r.Root.GetProperty("arguments").GetRawText());
            return r.Execute switch
            {
                "qom-list-get" when r.Json.Contains("\"/obj/kid\"") =>
                    """{"return": [{"properties": [{"name": "type", "type": "string", "value": "kid-type"}]}], "id": ID}""",
                "qom-list-get" =>
                    """{"return": [{"properties": [{"name": "kid", "type": "child<k>"}, {"name": "n", "type": "int", "value": 7}, {"name": "s", "type": "str", "value": "hi"}, {"name": "o", "type": "X", "value": {"a": [1, 2]}}, {"name": "bad", "type": "str"}]}], "id": ID}""",
                _ => """{"error": {"class": "GenericError", "desc": "not readable"}, "id": ID}""",
            };
        }, 10, 1);
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(server.SocketPath));
        var output = new StringWriter();
        await QomTreeWriter.WriteAsync(new QomClient(qmp), "/obj", output);
        Assert.That(output.ToString(), Is.EqualTo(
            "/obj\n  n: 7 (int)\n  s: hi (str)\n  o: {\"a\":[1,2]} (X)\n  bad: <EXCEPTION: not readable> (str)\n\n" +
            "/obj/kid\n  type: kid-type (string)\n\n"));
        Assert.That(commands, Is.EqualTo(new[]
        {
            "qom-list-get {\"paths\":[\"/obj\"]}",
            "qom-get {\"path\":\"/obj\",\"property\":\"bad\"}",
            "qom-list-get {\"paths\":[\"/obj/kid\"]}",
        }));
    }

    [TestCaseSource(typeof(QemuPeer), nameof(QemuPeer.All)), Category(Needs.Qemu)]
    public async Task EveryLineMatchesARawReadOnEachRealQemu(QemuPeer peer)
    {
        using var qemu = QemuProcess.Start(peer);
        await using var qmp = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.QmpSocket));
        await using var check = await QmpClient.ConnectAsync(QmpAddress.Unix(qemu.SecondSocket));
        var output = new StringWriter();
        await QomTreeWriter.WriteAsync(new QomClient(qmp), "/machine/unattached", output);
        var lines = output.ToString().Split('\n');
        Assert.That(lines[0], Is.EqualTo("/machine/unattached"));

        // Every property line matches a raw read from the second socket.
        string? path = null;
        var checkedLines = 0;
        foreach (var line in lines)
        {
            if (line.StartsWith('/')) { path = line; continue; }
            if (line.Length == 0) continue;
            var (name, rest) = (line[2..line.IndexOf(": ", StringComparison.Ordinal)], line[(line.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
            if (rest.EndsWith(" (struct tm)")) continue; // the RTC's clock moves between the two reads
            string expected;
            try
            {
                var v = (await check.ExecuteAsync("qom-get", w => { w.WriteString("path", path); w.WriteString("property", name); })).ToElement();
                expected = RealQemuWalkTests.Expected(v)[..^1];
            }
            catch (QmpCommandException e) { expected = $"<EXCEPTION: {e.Description}>"; }
            Assert.That(rest, Does.StartWith(expected + " ("), $"{path}.{name}");
            checkedLines++;
        }
        Assert.That(checkedLines, Is.GreaterThan(500));
    }
}
