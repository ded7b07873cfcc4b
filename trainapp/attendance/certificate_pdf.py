"""A certificate of attendance as a one-page PDF."""

from fpdf import FPDF

from trainapp.attendance.models import Certificate
from trainapp.timezones import format_date


def _latin1(text: str) -> str:
    # The PDF's built-in fonts cover Latin-1 (accented names included); anything else
    # is replaced rather than failing the download.
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(certificate: Certificate, organisation: str, verify_url: str) -> bytes:
    """Render one certificate: learner, course, date, CPD hours, number, organisation."""
    booking = certificate.booking
    session, course = booking.session, booking.session.course
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(f"Certificate of attendance: {course.title}"))
    pdf.set_author(_latin1(organisation))
    pdf.add_page()
    pdf.set_draw_color(29, 112, 184)
    pdf.set_line_width(2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_y(30)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(organisation), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 30)
    pdf.cell(0, 16, "Certificate of attendance", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 16)
    pdf.cell(0, 10, "This is to certify that", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 24)
    pdf.cell(0, 14, _latin1(booking.user.name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 16)
    pdf.cell(0, 10, "attended in full", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 20)
    pdf.multi_cell(0, 12, _latin1(course.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(
        0,
        10,
        _latin1(f"on {format_date(session.starts_at)}  -  {course.cpd_hours} CPD hours"),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_y(170)
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, f"Certificate number {certificate.number}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, _latin1(f"Check it at {verify_url}"), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
