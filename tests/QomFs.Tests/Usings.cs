global using NUnit.Framework;
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
